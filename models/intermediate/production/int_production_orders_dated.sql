{#-
    Production orders placed on production days: the day each was planned to start, started and completed, and
    the last production day the scenario's data covers (what is "due" and "late" is judged against it). A
    production day starts with the first shift (06:00) and runs 24 h, like the capacity calendar: an order that
    ends at 02:00 belongs to the previous day's night shift (T3).
-#}

with

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

capacity_calendar as (

    select * from {{ ref('stg_erp__capacity_calendar') }}

),

shifts as (

    select * from {{ ref('stg_reference__shifts') }}

),

production_day_start as (

    select min(start_time) - time '00:00' as day_start_offset
    from shifts

),

-- The simulated days of each scenario: the capacity calendar has a row per line, day and shift for every one.
data_horizons as (

    select
        scenario_id,
        max(calendar_date) as data_last_date
    from capacity_calendar
    group by scenario_id

),

final as (

    select
        production_orders.order_key,
        production_orders.scenario_id,
        production_orders.order_id,
        production_orders.product_id,
        production_orders.line_id,
        production_orders.status,
        production_orders.priority,
        production_orders.created_at,
        production_orders.released_at,
        production_orders.planned_start_at,
        production_orders.planned_end_at,
        production_orders.due_date,
        production_orders.actual_start_at,
        production_orders.actual_end_at,
        production_orders.planned_kg,
        production_orders.produced_kg,
        production_orders.good_kg,
        cast(
            production_orders.planned_start_at - production_day_start.day_start_offset as date
        ) as planned_production_date,
        cast(
            production_orders.actual_start_at - production_day_start.day_start_offset as date
        ) as started_production_date,
        cast(
            production_orders.actual_end_at - production_day_start.day_start_offset as date
        ) as completed_production_date,
        data_horizons.data_last_date
    from production_orders
    cross join production_day_start
    left join data_horizons
        on production_orders.scenario_id = data_horizons.scenario_id

)

select * from final
