-- The days an order's output is spread over add up to the order: its good kg and a run share of 1 (to 1e-9,
-- the quotients of a third being rounded). Returns the finished orders that do not.

with

order_output_days as (

    select * from {{ ref('int_order_output_days_prorated') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

order_totals as (

    select
        scenario_id,
        order_id,
        sum(good_kg) as good_kg,
        sum(run_share) as run_share
    from order_output_days
    group by scenario_id, order_id

),

final as (

    select
        production_orders.scenario_id,
        production_orders.order_id,
        production_orders.good_kg,
        order_totals.good_kg as prorated_good_kg,
        order_totals.run_share
    from production_orders
    left join order_totals
        on
            production_orders.scenario_id = order_totals.scenario_id
            and production_orders.order_id = order_totals.order_id
    where
        production_orders.actual_start_at is not null
        and production_orders.actual_end_at is not null
        and production_orders.good_kg is not null
        and (
            order_totals.good_kg is null
            or abs(order_totals.good_kg - production_orders.good_kg) > 1e-9
            or abs(order_totals.run_share - 1) > 1e-9
        )

)

select * from final
