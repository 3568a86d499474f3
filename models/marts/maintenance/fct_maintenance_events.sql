{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'production_date']},
            {'columns': ['scenario_id', 'equipment_id', 'production_date']},
        ],
    )
}}

{#-
    One row per scenario and maintenance event, with the planned operation time (shift hours of the line's
    capacity calendar) it took: preventive work on a Sunday takes none, a breakdown in the middle of a shift takes
    all of its downtime.
-#}

with

maintenance_events as (

    select * from {{ ref('int_maintenance_events_dated') }}

),

line_days as (

    select * from {{ ref('int_line_days_scheduled') }}

),

failure_modes as (

    select * from {{ ref('stg_reference__failure_modes') }}

),

-- One row per production day the event spans (usually one).
event_days as (

    select
        maintenance_events.maintenance_event_key,
        maintenance_events.scenario_id,
        maintenance_events.line_id,
        cast(event_day.production_day as date) as production_date,
        tsmultirange(tsrange(maintenance_events.started_at, maintenance_events.ended_at)) as event_windows
    from maintenance_events
    cross join lateral generate_series(
        maintenance_events.production_date, maintenance_events.ended_production_date, interval '1 day'
    ) as event_day (production_day)

),

planned_time_taken as (

    select
        event_days.maintenance_event_key,
        sum((
            select coalesce(sum(extract(epoch from upper(window_part) - lower(window_part))), 0) / 60
            from unnest(event_days.event_windows * line_days.pot_windows) as window_part
        )) as downtime_in_pot_min
    from event_days
    inner join line_days
        on
            event_days.scenario_id = line_days.scenario_id
            and event_days.line_id = line_days.line_id
            and event_days.production_date = line_days.production_date
    group by event_days.maintenance_event_key

),

final as (

    select
        maintenance_events.maintenance_event_key,
        maintenance_events.scenario_id,
        maintenance_events.maintenance_event_id,
        maintenance_events.equipment_id,
        maintenance_events.line_id,
        maintenance_events.maintenance_type,
        maintenance_events.is_corrective,
        maintenance_events.failure_mode_id,
        failure_modes.failure_mode_name,
        maintenance_events.started_at,
        maintenance_events.ended_at,
        maintenance_events.production_date,
        maintenance_events.month_start_date,
        trim_scale(maintenance_events.downtime_min) as downtime_min,
        trim_scale(coalesce(planned_time_taken.downtime_in_pot_min, 0)) as downtime_in_pot_min
    from maintenance_events
    left join failure_modes
        on maintenance_events.failure_mode_id = failure_modes.failure_mode_id
    left join planned_time_taken
        on maintenance_events.maintenance_event_key = planned_time_taken.maintenance_event_key

)

select * from final
