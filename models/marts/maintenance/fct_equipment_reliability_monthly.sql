{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'month_start_date']},
            {'columns': ['scenario_id', 'equipment_id', 'month_start_date'], 'unique': True},
        ],
    )
}}

{#-
    Reliability of each piece of equipment per month: failures (corrective events), repair time and operating
    time, MTBF and MTTR. Equipment operates while its line runs an order (the simulator ages it only then), so
    its operating time is its line's order run time net of repairs (int_order_run_days_apportioned.net_run_min).
    Every month of the scenario's calendar has a row for every piece of equipment, failures or not.
-#}

with

equipment as (

    select * from {{ ref('dim_equipment') }}

),

line_days as (

    select * from {{ ref('int_line_days_scheduled') }}

),

order_run_days as (

    select * from {{ ref('int_order_run_days_apportioned') }}

),

maintenance_events as (

    select * from {{ ref('int_maintenance_events_dated') }}

),

line_months as (

    select distinct
        scenario_id,
        line_id,
        cast(date_trunc('month', production_date) as date) as month_start_date
    from line_days

),

operating_time as (

    select
        scenario_id,
        line_id,
        cast(date_trunc('month', production_date) as date) as month_start_date,
        sum(net_run_min) as operating_min
    from order_run_days
    group by scenario_id, line_id, cast(date_trunc('month', production_date) as date)

),

maintenance_totals as (

    select
        scenario_id,
        equipment_id,
        month_start_date,
        count(*) filter (where is_corrective) as failure_count,
        coalesce(sum(downtime_min) filter (where is_corrective), 0) as repair_min,
        count(*) filter (where not is_corrective) as preventive_count,
        coalesce(sum(downtime_min) filter (where not is_corrective), 0) as preventive_min
    from maintenance_events
    group by scenario_id, equipment_id, month_start_date

),

joined as (

    select
        line_months.scenario_id,
        equipment.equipment_id,
        equipment.line_id,
        line_months.month_start_date,
        coalesce(operating_time.operating_min, 0) / 60 as operating_h,
        coalesce(maintenance_totals.failure_count, 0) as failure_count,
        coalesce(maintenance_totals.repair_min, 0) / 60 as repair_h,
        coalesce(maintenance_totals.preventive_count, 0) as preventive_count,
        coalesce(maintenance_totals.preventive_min, 0) / 60 as preventive_h
    from equipment
    inner join line_months
        on equipment.line_id = line_months.line_id
    left join operating_time
        on
            line_months.scenario_id = operating_time.scenario_id
            and line_months.line_id = operating_time.line_id
            and line_months.month_start_date = operating_time.month_start_date
    left join maintenance_totals
        on
            line_months.scenario_id = maintenance_totals.scenario_id
            and equipment.equipment_id = maintenance_totals.equipment_id
            and line_months.month_start_date = maintenance_totals.month_start_date

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'equipment_id', 'month_start_date']) }} as equipment_month_key,
        scenario_id,
        equipment_id,
        line_id,
        month_start_date,
        trim_scale(operating_h) as operating_h,
        failure_count,
        trim_scale(repair_h) as repair_h,
        preventive_count,
        trim_scale(preventive_h) as preventive_h,
        trim_scale({{ safe_divide('operating_h', 'failure_count') }}) as mtbf_h,
        trim_scale({{ safe_divide('repair_h', 'failure_count') }}) as mttr_h
    from joined

)

select * from final
