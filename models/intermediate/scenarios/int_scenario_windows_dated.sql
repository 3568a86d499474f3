{#-
    The dates each scenario's KPIs are compared over (fct_scenario_kpis, tests/scenario_signatures): its whole
    horizon, and the window its effect applies in, dated here and only here.

    seeds/scenarios.csv dates an effect as the generator does (generators/scenarios.py): a calendar window every
    year, from effect_start_month / effect_start_day_of_month for effect_days days, so it sits on its season
    whatever the simulation's start date. One row per occurrence with a day in the data, from the year before the
    data starts (a window may cross New Year's Eve) to the year it ends.

    Each effect window has a twin, 'effect_and_recovery': the same window and the var('scenario_recovery_days')
    days after it. Some effects land after their cause: the orders a 3-day stop delays are due in the week after it,
    since orders are made days ahead of their due date.

    Windows are cut to the scenario's data; a window wholly outside it has no row (a warning test names it).
-#}

with

scenarios as (

    select * from {{ ref('stg_reference__scenarios') }}

),

data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

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

-- Every year's occurrence of the window, from the year before the data starts to the year it ends.
calendar_windows as (

    select
        scenarios.scenario_id,
        'effect_window' as kpi_window,
        'calendar' as window_anchor,
        make_date(
            cast(window_year.year_number as integer),
            scenarios.effect_start_month,
            scenarios.effect_start_day_of_month
        ) as effect_start_date,
        make_date(
            cast(window_year.year_number as integer),
            scenarios.effect_start_month,
            scenarios.effect_start_day_of_month
        ) + scenarios.effect_days - 1 as effect_end_date
    from scenarios
    inner join data_spans
        on scenarios.scenario_id = data_spans.scenario_id
    {{ series_join(
        'extract(year from data_spans.data_first_date) - 1',
        'extract(year from data_spans.data_last_date)',
        'window_year',
        'year_number',
    ) }}
    where
        scenarios.effect_start_month is not null
        and scenarios.effect_start_day_of_month is not null
        and scenarios.effect_days is not null

),

recovery_windows as (

    select
        scenario_id,
        'effect_and_recovery' as kpi_window,
        window_anchor,
        effect_start_date,
        effect_end_date + {{ var('scenario_recovery_days') }} as effect_end_date
    from calendar_windows

),

windows as (

    select * from whole_horizons

    union all

    select * from calendar_windows

    union all

    select * from recovery_windows

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
        {{ days_between('window_start_date', 'window_end_date') }} + 1 as window_day_count,
        window_start_date = effect_start_date and window_end_date = effect_end_date as is_window_complete,
        data_first_date,
        data_last_date
    from clipped
    where window_start_date <= window_end_date

)

select * from final
