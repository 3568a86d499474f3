{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'production_date'], 'unique': True},
            {'columns': ['scenario_id', 'production_date']},
        ],
    )
}}

{#-
    Line performance per production day: the ISO 22400-2 time model (POT, planned downtime, PBT, corrective
    downtime, APT), kilos, OEE and its factors, capacity utilization, schedule attainment and the delivery of the
    orders due that day (OTIF). Every ratio keeps its numerator and denominator, so a week or a month is the
    ratio of the summed columns. FEFO compliance is the raw milk issued at the day's starts from the lots the ERP
    reserved for each order, over all the milk issued then (DOMAIN.md §4).
-#}

with

line_days as (

    select * from {{ ref('int_line_days_scheduled') }}

),

order_run_days as (

    select * from {{ ref('int_order_run_days_apportioned') }}

),

production_orders as (

    select * from {{ ref('int_production_orders_dated') }}

),

order_consumptions as (

    select * from {{ ref('int_order_consumptions_aggregated') }}

),

reserved_requirements as (

    select * from {{ ref('int_material_requirements_reserved') }}

),

runs_per_day as (

    select
        scenario_id,
        line_id,
        production_date,
        count(*) as order_run_count,
        sum(loaded_min) as loaded_min,
        sum(net_run_min) as apt_min,
        sum(unplanned_run_min) as unplanned_run_min,
        sum(unplanned_corrective_min) as unplanned_corrective_min,
        sum(produced_kg) as produced_kg,
        sum(good_kg) as good_kg,
        sum(ideal_kg) as ideal_kg,
        sum(produced_at_ideal_rate_min) as produced_at_ideal_rate_min
    from order_run_days
    group by scenario_id, line_id, production_date

),

-- Schedule attainment counts each order on the day it was planned to start, with what it produced (a cancelled
-- or not yet produced order attains 0).
schedule_per_day as (

    select
        scenario_id,
        line_id,
        planned_production_date as production_date,
        count(*) as planned_order_count,
        sum(planned_kg) as planned_kg,
        sum(least(coalesce(produced_kg, 0), planned_kg)) as attained_kg
    from production_orders
    group by scenario_id, line_id, planned_production_date

),

-- Delivery counts each due order on its due date.
deliveries_per_day as (

    select
        scenario_id,
        line_id,
        due_date as production_date,
        count(*) as due_order_count,
        count(*) filter (where is_on_time_in_full) as on_time_in_full_order_count,
        count(*) filter (where is_late) as late_order_count
    from production_orders
    where is_due
    group by scenario_id, line_id, due_date

),

-- Goods issue happens at an order's start: its milk counts on the production day it started.
issues_per_day as (

    select
        production_orders.scenario_id,
        production_orders.line_id,
        production_orders.started_production_date as production_date,
        sum(order_consumptions.milk_consumed_l) as milk_issued_l,
        sum(order_consumptions.milk_issued_from_reserved_l) as milk_issued_from_reserved_l
    from production_orders
    inner join order_consumptions
        on production_orders.order_key = order_consumptions.order_key
    where production_orders.started_production_date is not null
    group by production_orders.scenario_id, production_orders.line_id, production_orders.started_production_date

),

-- Orders started on the day, and those that started with a requirement still open (DOMAIN.md §3).
orders_short_at_start as (

    select distinct
        scenario_id,
        order_id
    from reserved_requirements
    where is_short_at_start

),

starts_per_day as (

    select
        production_orders.scenario_id,
        production_orders.line_id,
        production_orders.started_production_date as production_date,
        count(*) as started_order_count,
        count(orders_short_at_start.order_id) as short_at_start_order_count
    from production_orders
    left join orders_short_at_start
        on
            production_orders.scenario_id = orders_short_at_start.scenario_id
            and production_orders.order_id = orders_short_at_start.order_id
    where production_orders.started_production_date is not null
    group by production_orders.scenario_id, production_orders.line_id, production_orders.started_production_date

),

joined as (

    select
        line_days.line_day_key,
        line_days.scenario_id,
        line_days.line_id,
        line_days.production_date,
        line_days.pot_min,
        line_days.regular_pot_min,
        line_days.cip_downtime_min,
        line_days.preventive_downtime_min,
        line_days.planned_downtime_min,
        line_days.pbt_min + coalesce(runs_per_day.unplanned_run_min, 0) as pbt_min,
        line_days.corrective_downtime_min + coalesce(runs_per_day.unplanned_corrective_min, 0)
            as corrective_downtime_min,
        coalesce(runs_per_day.apt_min, 0) as apt_min,
        coalesce(runs_per_day.unplanned_run_min, 0) as unplanned_run_min,
        coalesce(runs_per_day.loaded_min, 0) as loaded_min,
        coalesce(runs_per_day.order_run_count, 0) as order_run_count,
        coalesce(runs_per_day.produced_kg, 0) as produced_kg,
        coalesce(runs_per_day.good_kg, 0) as good_kg,
        coalesce(runs_per_day.ideal_kg, 0) as ideal_kg,
        coalesce(runs_per_day.produced_at_ideal_rate_min, 0) as produced_at_ideal_rate_min,
        coalesce(schedule_per_day.planned_order_count, 0) as planned_order_count,
        coalesce(schedule_per_day.planned_kg, 0) as planned_kg,
        coalesce(schedule_per_day.attained_kg, 0) as attained_kg,
        coalesce(deliveries_per_day.due_order_count, 0) as due_order_count,
        coalesce(deliveries_per_day.on_time_in_full_order_count, 0) as on_time_in_full_order_count,
        coalesce(deliveries_per_day.late_order_count, 0) as late_order_count,
        coalesce(issues_per_day.milk_issued_l, 0) as milk_issued_l,
        coalesce(issues_per_day.milk_issued_from_reserved_l, 0) as milk_issued_from_reserved_l,
        coalesce(starts_per_day.started_order_count, 0) as started_order_count,
        coalesce(starts_per_day.short_at_start_order_count, 0) as short_at_start_order_count
    from line_days
    left join runs_per_day
        on
            line_days.scenario_id = runs_per_day.scenario_id
            and line_days.line_id = runs_per_day.line_id
            and line_days.production_date = runs_per_day.production_date
    left join schedule_per_day
        on
            line_days.scenario_id = schedule_per_day.scenario_id
            and line_days.line_id = schedule_per_day.line_id
            and line_days.production_date = schedule_per_day.production_date
    left join deliveries_per_day
        on
            line_days.scenario_id = deliveries_per_day.scenario_id
            and line_days.line_id = deliveries_per_day.line_id
            and line_days.production_date = deliveries_per_day.production_date
    left join issues_per_day
        on
            line_days.scenario_id = issues_per_day.scenario_id
            and line_days.line_id = issues_per_day.line_id
            and line_days.production_date = issues_per_day.production_date
    left join starts_per_day
        on
            line_days.scenario_id = starts_per_day.scenario_id
            and line_days.line_id = starts_per_day.line_id
            and line_days.production_date = starts_per_day.production_date

),

ratios as (

    select
        *,
        trim_scale({{ safe_divide('apt_min', 'pbt_min') }}) as availability,
        trim_scale({{ safe_divide('produced_at_ideal_rate_min', 'apt_min') }}) as effectiveness,
        trim_scale({{ safe_divide('good_kg', 'produced_kg') }}) as quality_ratio,
        trim_scale({{ safe_divide('loaded_min', 'regular_pot_min') }}) as capacity_utilization,
        trim_scale({{ safe_divide('attained_kg', 'planned_kg') }}) as schedule_attainment,
        trim_scale({{ safe_divide('on_time_in_full_order_count', 'cast(due_order_count as numeric)') }}) as otif,
        trim_scale({{ safe_divide('milk_issued_from_reserved_l', 'milk_issued_l') }}) as fefo_compliance
    from joined

),

final as (

    select
        line_day_key,
        scenario_id,
        line_id,
        production_date,
        pot_min,
        regular_pot_min,
        cip_downtime_min,
        preventive_downtime_min,
        planned_downtime_min,
        pbt_min,
        corrective_downtime_min,
        apt_min,
        pbt_min - apt_min - corrective_downtime_min as idle_min,
        unplanned_run_min,
        loaded_min,
        order_run_count,
        produced_kg,
        good_kg,
        produced_kg - good_kg as rejected_kg,
        ideal_kg,
        produced_at_ideal_rate_min,
        planned_order_count,
        planned_kg,
        attained_kg,
        due_order_count,
        on_time_in_full_order_count,
        late_order_count,
        milk_issued_l,
        milk_issued_from_reserved_l,
        started_order_count,
        short_at_start_order_count,
        availability,
        effectiveness,
        quality_ratio,
        -- A day with busy time and no production has nothing good to show: OEE 0, though its effectiveness and
        -- quality ratio are undefined.
        case
            when pbt_min > 0 and apt_min = 0 then 0
            else trim_scale(availability * effectiveness * quality_ratio)
        end as oee,
        capacity_utilization,
        schedule_attainment,
        otif,
        fefo_compliance
    from ratios

)

select * from final
