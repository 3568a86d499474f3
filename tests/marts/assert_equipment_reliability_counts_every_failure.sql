-- Every corrective event lands in a month of fct_equipment_reliability_monthly: per scenario and equipment, the
-- months' failures and repair hours equal the corrective events of fct_maintenance_events. Returns the equipment
-- that differs.

with

reliability as (

    select * from {{ ref('fct_equipment_reliability_monthly') }}

),

maintenance_events as (

    select * from {{ ref('fct_maintenance_events') }}

),

monthly_totals as (

    select
        scenario_id,
        equipment_id,
        sum(failure_count) as failure_count,
        sum(repair_h) as repair_h
    from reliability
    group by scenario_id, equipment_id

),

event_totals as (

    select
        scenario_id,
        equipment_id,
        count(*) as failure_count,
        sum(downtime_min) / 60 as repair_h
    from maintenance_events
    where is_corrective
    group by scenario_id, equipment_id

),

final as (

    select
        coalesce(monthly_totals.scenario_id, event_totals.scenario_id) as scenario_id,
        coalesce(monthly_totals.equipment_id, event_totals.equipment_id) as equipment_id,
        monthly_totals.failure_count as monthly_failure_count,
        event_totals.failure_count as event_failure_count,
        monthly_totals.repair_h as monthly_repair_h,
        event_totals.repair_h as event_repair_h
    from monthly_totals
    full outer join event_totals
        on
            monthly_totals.scenario_id = event_totals.scenario_id
            and monthly_totals.equipment_id = event_totals.equipment_id
    where
        coalesce(monthly_totals.failure_count, 0) != coalesce(event_totals.failure_count, 0)
        or abs(coalesce(monthly_totals.repair_h, 0) - coalesce(event_totals.repair_h, 0)) > 0.000001

)

select * from final
