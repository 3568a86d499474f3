{#-
    Production orders placed on production days: the day each was planned to start, started and completed, and
    the last production day the scenario's data covers, against which each order's delivery is judged (due, on
    time, in full, late). A production day starts with the first shift (06:00) and runs 24 h, like the capacity
    calendar: an order that ends at 02:00 belongs to the previous day's night shift (T3).
-#}

with

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

shifts as (

    select * from {{ ref('stg_reference__shifts') }}

),

production_day_start as (

    {{ production_day_start('shifts') }}

),

data_horizons as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

dated as (

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
        production_orders.cancelled_at,
        production_orders.replaces_order_id,
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

),

-- The orders a replacement names: rescheduled, they are delivered through their replacement.
replaced_orders as (

    select distinct
        scenario_id,
        replaces_order_id as order_id
    from production_orders
    where replaces_order_id is not null

),

-- Delivery (DOMAIN.md §4): due when the due date lies within the data; on time when completed by the end of the
-- due date; in full when good kg reach the tolerance (dbt var otif_in_full_tolerance) of the planned kg. A
-- cancelled order that was replaced counts once, through its replacement: it is not due itself.
delivery as (

    select
        dated.*,
        dated.status = 'completed' as is_completed,
        dated.status = 'cancelled' as is_cancelled,
        replaced_orders.order_id is not null as is_replaced,
        coalesce(
            dated.due_date <= dated.data_last_date
            and not (dated.status = 'cancelled' and replaced_orders.order_id is not null),
            false
        ) as is_due,
        coalesce(cast(dated.actual_end_at as date) <= dated.due_date, false) as is_on_time,
        coalesce(dated.good_kg >= {{ var('otif_in_full_tolerance') }} * dated.planned_kg, false) as is_in_full,
        {{ days_between('dated.due_date', 'cast(dated.actual_end_at as date)') }} as days_late
    from dated
    left join replaced_orders
        on
            dated.scenario_id = replaced_orders.scenario_id
            and dated.order_id = replaced_orders.order_id

),

final as (

    select
        *,
        is_due and not is_cancelled and not is_on_time as is_late,
        is_due and is_on_time and is_in_full as is_on_time_in_full
    from delivery

)

select * from final
