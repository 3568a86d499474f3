{#-
    The dates each scenario's KPIs are compared over (fct_scenario_kpis, tests/scenario_signatures): its whole
    horizon, and the window its effect applies in, dated here and only here.

    Today seeds/scenarios.csv dates an effect as the generator does (generators/scenarios.py): day offsets from
    the scenario's first simulated day (effect_start_day, effect_days), or every day of a calendar month
    (affected_month: the demand peak). The first simulated day is the scenario's first day in the capacity
    calendar, which has every simulated day. Calendar-anchored windows would change this model alone.

    Windows are cut to the scenario's data; a window wholly outside it has no row (a warning test names it).
-#}

with

scenarios as (

    select * from {{ ref('stg_reference__scenarios') }}

),

capacity_calendar as (

    select * from {{ ref('stg_erp__capacity_calendar') }}

),

data_spans as (

    select
        scenario_id,
        min(calendar_date) as data_first_date,
        max(calendar_date) as data_last_date
    from capacity_calendar
    group by scenario_id

),

whole_horizons as (

    select
        scenario_id,
        'whole_horizon' as kpi_window,
        'data' as window_anchor,
        data_first_date as effect_start_date,
        data_last_date as effect_end_date
    from data_spans

),

day_offset_windows as (

    select
        scenarios.scenario_id,
        'effect_window' as kpi_window,
        'day_offset' as window_anchor,
        data_spans.data_first_date + scenarios.effect_start_day as effect_start_date,
        data_spans.data_first_date + scenarios.effect_start_day + scenarios.effect_days - 1 as effect_end_date
    from scenarios
    inner join data_spans
        on scenarios.scenario_id = data_spans.scenario_id
    where scenarios.effect_start_day is not null and scenarios.effect_days is not null

),

-- Every occurrence of the affected month from the month the data starts in to the data's last day.
calendar_month_windows as (

    select
        scenarios.scenario_id,
        'effect_window' as kpi_window,
        'calendar_month' as window_anchor,
        cast(month_start.month_start_at as date) as effect_start_date,
        cast(month_start.month_start_at + interval '1 month' - interval '1 day' as date) as effect_end_date
    from scenarios
    inner join data_spans
        on scenarios.scenario_id = data_spans.scenario_id
    cross join
        lateral generate_series(
            date_trunc('month', cast(data_spans.data_first_date as timestamp)),
            cast(data_spans.data_last_date as timestamp),
            interval '1 month'
        ) as month_start (month_start_at)
    where extract(month from month_start.month_start_at) = scenarios.affected_month

),

windows as (

    select * from whole_horizons

    union all

    select * from day_offset_windows

    union all

    select * from calendar_month_windows

),

clipped as (

    select
        windows.scenario_id,
        windows.kpi_window,
        windows.window_anchor,
        windows.effect_start_date,
        windows.effect_end_date,
        greatest(windows.effect_start_date, data_spans.data_first_date) as window_start_date,
        least(windows.effect_end_date, data_spans.data_last_date) as window_end_date,
        data_spans.data_first_date,
        data_spans.data_last_date
    from windows
    inner join data_spans
        on windows.scenario_id = data_spans.scenario_id

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'kpi_window', 'effect_start_date']) }} as scenario_window_key,
        scenario_id,
        kpi_window,
        window_anchor,
        effect_start_date,
        effect_end_date,
        window_start_date,
        window_end_date,
        window_end_date - window_start_date + 1 as window_day_count,
        window_start_date = effect_start_date and window_end_date = effect_end_date as is_window_complete,
        data_first_date,
        data_last_date
    from clipped
    where window_start_date <= window_end_date

)

select * from final
