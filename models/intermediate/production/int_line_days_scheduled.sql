{#-
    The ISO 22400-2 time model of each line and production day, with the time windows it is made of, so that
    order runs can be measured against them (int_order_run_days_apportioned).

    - POT windows: each shift of the capacity calendar, [shift start, shift start + planned_min).
    - Productive windows: the POT windows less the shift's planned CIP, which sits at the end of the shift
      (generators/calendar.py places it there; the calendar only gives its length).
    - PBT windows: the productive windows less preventive maintenance on the line's equipment. Hence
      PBT = POT − planned downtime, planned downtime = CIP + preventive work inside the productive windows.
    - Corrective windows: corrective maintenance on the line's equipment inside the production day.
    A production day starts with the first shift (06:00) and runs 24 h; a night shift (22:00-06:00) belongs to
    the day it starts, as in the capacity calendar.
-#}

{#- Minutes covered by each multirange expression (the sum of its ranges' lengths), one column each. -#}
{%- set measured_windows = {
    'preventive_downtime_min': 'productive_windows * preventive_windows',
    'pbt_min': 'pbt_windows',
    'corrective_downtime_min': 'pbt_windows * corrective_windows',
} -%}

with

capacity_calendar as (

    select * from {{ ref('stg_erp__capacity_calendar') }}

),

shifts as (

    select * from {{ ref('stg_reference__shifts') }}

),

line_shift_patterns as (

    select * from {{ ref('stg_reference__line_shift_patterns') }}

),

maintenance_events as (

    select * from {{ ref('int_maintenance_events_dated') }}

),

production_day_start as (

    {{ production_day_start('shifts') }}

),

calendar_shifts as (

    select
        capacity_calendar.scenario_id,
        capacity_calendar.line_id,
        capacity_calendar.calendar_date as production_date,
        capacity_calendar.planned_min,
        capacity_calendar.planned_downtime_min,
        -- The line's regular pattern for the weekday; a Sunday shift the planner added as overtime has none.
        least(capacity_calendar.planned_min, coalesce(line_shift_patterns.planned_min, 0)) as regular_planned_min,
        capacity_calendar.calendar_date + shifts.start_time as shift_started_at
    from capacity_calendar
    inner join shifts
        on capacity_calendar.shift_id = shifts.shift_id
    left join line_shift_patterns
        on
            capacity_calendar.line_id = line_shift_patterns.line_id
            and capacity_calendar.shift_id = line_shift_patterns.shift_id
            and extract(isodow from capacity_calendar.calendar_date) = line_shift_patterns.iso_weekday

),

line_days as (

    select
        scenario_id,
        line_id,
        production_date,
        sum(planned_min) as pot_min,
        sum(regular_planned_min) as regular_pot_min,
        sum(planned_downtime_min) as cip_downtime_min,
        coalesce(
            range_agg(tsrange(shift_started_at, shift_started_at + make_interval(mins => planned_min))),
            '{}'
        ) as pot_windows,
        coalesce(
            range_agg(
                tsrange(shift_started_at, shift_started_at + make_interval(mins => planned_min - planned_downtime_min))
            ),
            '{}'
        ) as productive_windows
    from calendar_shifts
    group by scenario_id, line_id, production_date

),

line_downtimes as (

    select
        scenario_id,
        line_id,
        range_agg(tsrange(started_at, ended_at)) filter (where not is_corrective) as preventive_windows,
        range_agg(tsrange(started_at, ended_at)) filter (where is_corrective) as corrective_windows
    from maintenance_events
    group by scenario_id, line_id

),

windowed as (

    select
        line_days.scenario_id,
        line_days.line_id,
        line_days.production_date,
        line_days.production_date + production_day_start.day_start_offset as day_started_at,
        line_days.production_date + production_day_start.day_start_offset + interval '1 day' as day_ended_at,
        line_days.pot_min,
        line_days.regular_pot_min,
        line_days.cip_downtime_min,
        line_days.pot_windows,
        line_days.productive_windows,
        coalesce(line_downtimes.preventive_windows, '{}') as preventive_windows,
        line_days.productive_windows - coalesce(line_downtimes.preventive_windows, '{}') as pbt_windows,
        tsmultirange(
            tsrange(
                line_days.production_date + production_day_start.day_start_offset,
                line_days.production_date + production_day_start.day_start_offset + interval '1 day'
            )
        ) * coalesce(line_downtimes.corrective_windows, '{}') as corrective_windows
    from line_days
    cross join production_day_start
    left join line_downtimes
        on
            line_days.scenario_id = line_downtimes.scenario_id
            and line_days.line_id = line_downtimes.line_id

),

measured as (

    select
        {% for column, windows in measured_windows.items() %}
            (
                select trim_scale(coalesce(sum(extract(epoch from upper(window_part) - lower(window_part))), 0) / 60)
                from unnest({{ windows }}) as window_part
            ) as {{ column }},
        {% endfor %}
        windowed.*
    from windowed

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'line_id', 'production_date']) }} as line_day_key,
        scenario_id,
        line_id,
        production_date,
        day_started_at,
        day_ended_at,
        pot_min,
        regular_pot_min,
        cip_downtime_min,
        preventive_downtime_min,
        cip_downtime_min + preventive_downtime_min as planned_downtime_min,
        pbt_min,
        corrective_downtime_min,
        pot_windows,
        pbt_windows,
        corrective_windows
    from measured

)

select * from final
