{{ config(tags=['scenario_signature']) }}

{#-
    breakdown lowers the availability of the line whose equipment fails (DOMAIN.md §2: the MUS stretcher down
    for 3 days): APT / PBT of that line (dim_scenarios.breakdown_equipment_id -> dim_equipment.line_id) over
    its effect window at most half the baseline's on the same days. The window is the breakdown itself, so
    a line down for all of it is near 0; half allows for the hours before the failure on its first day.
    Read from fct_line_performance_daily (fct_scenario_kpis is plant level); not judged when the window lies
    outside the data or the baseline is not loaded. A row returned is the line that kept its availability.
-#}

with

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

equipment as (

    select * from {{ ref('dim_equipment') }}

),

scenario_windows as (

    select * from {{ ref('int_scenario_windows_dated') }}

),

line_performance_days as (

    select * from {{ ref('fct_line_performance_daily') }}

),

broken_lines as (

    select
        scenarios.scenario_id,
        equipment.line_id
    from scenarios
    inner join equipment
        on scenarios.breakdown_equipment_id = equipment.equipment_id
    where scenarios.scenario_id = 'breakdown'

),

window_availability as (

    select
        broken_lines.scenario_id,
        broken_lines.line_id,
        {{ safe_divide(
            "sum(line_performance_days.apt_min) filter (where line_performance_days.scenario_id = broken_lines.scenario_id)",
            "sum(line_performance_days.pbt_min) filter (where line_performance_days.scenario_id = broken_lines.scenario_id)",
        ) }} as availability,
        {{ safe_divide(
            "sum(line_performance_days.apt_min) filter (where line_performance_days.scenario_id = 'baseline')",
            "sum(line_performance_days.pbt_min) filter (where line_performance_days.scenario_id = 'baseline')",
        ) }} as baseline_availability,
        count(*) filter (where line_performance_days.scenario_id = 'baseline') as baseline_day_count
    from broken_lines
    inner join scenario_windows
        on broken_lines.scenario_id = scenario_windows.scenario_id
    inner join line_performance_days
        on
            broken_lines.line_id = line_performance_days.line_id
            and line_performance_days.production_date
            between scenario_windows.window_start_date and scenario_windows.window_end_date
            and line_performance_days.scenario_id in (broken_lines.scenario_id, 'baseline')
    where scenario_windows.kpi_window = 'effect_window'
    group by broken_lines.scenario_id, broken_lines.line_id

),

final as (

    select * from window_availability
    where baseline_day_count > 0 and not coalesce(availability <= 0.5 * baseline_availability, false)

)

select * from final
