-- Apportioning an order's kilos to the production days of its run must neither lose nor invent any: per scenario
-- and line, the days' produced and good kilos add up to those of the completed orders. Returns the lines that
-- do not (beyond numeric rounding of the shares).

with

line_days as (

    select * from {{ ref('fct_line_performance_daily') }}

),

production_orders as (

    select * from {{ ref('fct_production_orders') }}

),

day_totals as (

    select
        scenario_id,
        line_id,
        sum(produced_kg) as produced_kg,
        sum(good_kg) as good_kg
    from line_days
    group by scenario_id, line_id

),

order_totals as (

    select
        scenario_id,
        line_id,
        sum(produced_kg) as produced_kg,
        sum(good_kg) as good_kg
    from production_orders
    where actual_end_at is not null
    group by scenario_id, line_id

),

final as (

    select
        coalesce(day_totals.scenario_id, order_totals.scenario_id) as scenario_id,
        coalesce(day_totals.line_id, order_totals.line_id) as line_id,
        day_totals.produced_kg as day_produced_kg,
        order_totals.produced_kg as order_produced_kg,
        day_totals.good_kg as day_good_kg,
        order_totals.good_kg as order_good_kg
    from day_totals
    full outer join order_totals
        on
            day_totals.scenario_id = order_totals.scenario_id
            and day_totals.line_id = order_totals.line_id
    where
        abs(coalesce(day_totals.produced_kg, 0) - coalesce(order_totals.produced_kg, 0)) > 0.000001
        or abs(coalesce(day_totals.good_kg, 0) - coalesce(order_totals.good_kg, 0)) > 0.000001

)

select * from final
