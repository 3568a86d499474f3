{#-
    Maintenance events placed on their line and production day. A production day starts with the first shift
    (06:00) and runs 24 h, like the capacity calendar, so a repair at 02:00 belongs to the previous day's T3.
-#}

with

maintenance_events as (

    select * from {{ ref('stg_cmms__maintenance_events') }}

),

equipment as (

    select * from {{ ref('stg_reference__equipment') }}

),

shifts as (

    select * from {{ ref('stg_reference__shifts') }}

),

production_day_start as (

    {{ production_day_start('shifts') }}

),

final as (

    select
        maintenance_events.maintenance_event_key,
        maintenance_events.scenario_id,
        maintenance_events.maintenance_event_id,
        maintenance_events.equipment_id,
        equipment.line_id,
        equipment.equipment_type,
        maintenance_events.failure_mode_id,
        maintenance_events.maintenance_type,
        maintenance_events.is_corrective,
        maintenance_events.started_at,
        maintenance_events.ended_at,
        maintenance_events.downtime_min,
        cast(maintenance_events.started_at - production_day_start.day_start_offset as date) as production_date,
        cast(maintenance_events.ended_at - production_day_start.day_start_offset as date) as ended_production_date,
        cast(
            date_trunc('month', maintenance_events.started_at - production_day_start.day_start_offset) as date
        ) as month_start_date
    from maintenance_events
    inner join equipment
        on maintenance_events.equipment_id = equipment.equipment_id
    cross join production_day_start

)

select * from final
