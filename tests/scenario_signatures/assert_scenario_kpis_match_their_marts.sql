{#-
    fct_scenario_kpis adds up to the marts it reads, recomputed here another way:
    - every window's availability, its own and the baseline's, is Σ apt_min / Σ pbt_min of
      fct_line_performance_daily over the window's days, occurrence by occurrence (the baseline over the
      scenario's days);
    - over the whole horizon, MTBF's operating hours and failures are the totals of
      fct_equipment_reliability_monthly, the litres short are fct_material_shortages' litres, and the
      excursions are the rows of fct_iot_excursions.
    A row returned is a KPI that differs (by more than 1e-6 in its unit) from its source.
-#}

with

scenario_kpis as (

    select * from {{ ref('fct_scenario_kpis') }}

),

scenario_windows as (

    select * from {{ ref('int_scenario_windows_dated') }}

),

line_performance_days as (

    select * from {{ ref('fct_line_performance_daily') }}

),

reliability_months as (

    select * from {{ ref('fct_equipment_reliability_monthly') }}

),

material_shortages as (

    select * from {{ ref('fct_material_shortages') }}

),

iot_excursions as (

    select * from {{ ref('fct_iot_excursions') }}

),

availability_windows as (

    select
        scenario_kpis.scenario_id,
        scenario_kpis.kpi_window,
        scenario_kpis.kpi_id,
        scenario_kpis.kpi_value,
        scenario_kpis.baseline_kpi_value,
        {{ safe_divide(
            "sum(line_performance_days.apt_min) filter (where line_performance_days.scenario_id = scenario_kpis.scenario_id)",
            "sum(line_performance_days.pbt_min) filter (where line_performance_days.scenario_id = scenario_kpis.scenario_id)",
        ) }} as expected_value,
        {{ safe_divide(
            "sum(line_performance_days.apt_min) filter (where line_performance_days.scenario_id = 'baseline')",
            "sum(line_performance_days.pbt_min) filter (where line_performance_days.scenario_id = 'baseline')",
        ) }} as expected_baseline_value
    from scenario_kpis
    inner join scenario_windows
        on
            scenario_kpis.scenario_id = scenario_windows.scenario_id
            and scenario_kpis.kpi_window = scenario_windows.kpi_window
    inner join line_performance_days
        on
            line_performance_days.production_date
            between scenario_windows.window_start_date and scenario_windows.window_end_date
            and line_performance_days.scenario_id in (scenario_kpis.scenario_id, 'baseline')
    where scenario_kpis.kpi_id = 'availability'
    group by
        scenario_kpis.scenario_id,
        scenario_kpis.kpi_window,
        scenario_kpis.kpi_id,
        scenario_kpis.kpi_value,
        scenario_kpis.baseline_kpi_value

),

reliability_totals as (

    select
        scenario_id,
        sum(operating_h) as operating_h,
        sum(failure_count) as failure_count
    from reliability_months
    group by scenario_id

),

shortage_totals as (

    select
        scenario_id,
        -- The shortage that counts: still open at the start, or open now for an order not started yet.
        sum(
            case requirement_status
                when 'started' then short_at_start_quantity
                when 'open' then open_quantity
                else 0
            end
        ) as short_l
    from material_shortages
    where unit = 'L'
    group by scenario_id

),

excursion_totals as (

    select
        scenario_id,
        count(*) as excursion_count
    from iot_excursions
    group by scenario_id

),

horizon_totals as (

    select
        scenario_kpis.scenario_id,
        scenario_kpis.kpi_window,
        scenario_kpis.kpi_id,
        scenario_kpis.kpi_numerator,
        scenario_kpis.kpi_denominator,
        case scenario_kpis.kpi_id
            when 'mtbf_h' then reliability_totals.operating_h
            when 'short_input_l' then coalesce(shortage_totals.short_l, 0)
            when 'excursions' then coalesce(excursion_totals.excursion_count, 0)
        end as expected_numerator,
        case when scenario_kpis.kpi_id = 'mtbf_h' then reliability_totals.failure_count end as expected_denominator
    from scenario_kpis
    left join reliability_totals
        on scenario_kpis.scenario_id = reliability_totals.scenario_id
    left join shortage_totals
        on scenario_kpis.scenario_id = shortage_totals.scenario_id
    left join excursion_totals
        on scenario_kpis.scenario_id = excursion_totals.scenario_id
    where
        scenario_kpis.kpi_window = 'whole_horizon'
        and scenario_kpis.kpi_id in ('mtbf_h', 'short_input_l', 'excursions')

),

final as (

    select
        scenario_id,
        kpi_window,
        kpi_id,
        kpi_value as kpi_figure,
        expected_value as expected_figure
    from availability_windows
    where
        not coalesce(abs(kpi_value - expected_value) <= 1e-6, kpi_value is null and expected_value is null)
        or not coalesce(
            abs(baseline_kpi_value - expected_baseline_value) <= 1e-6,
            baseline_kpi_value is null and expected_baseline_value is null
        )

    union all

    select
        scenario_id,
        kpi_window,
        kpi_id,
        kpi_numerator as kpi_figure,
        expected_numerator as expected_figure
    from horizon_totals
    where
        not coalesce(abs(kpi_numerator - expected_numerator) <= 1e-6, false)
        or kpi_denominator is distinct from expected_denominator

)

select * from final
