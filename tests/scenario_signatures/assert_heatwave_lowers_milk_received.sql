{{ config(tags=['scenario_signature']) }}

{#-
    heatwave lowers the milk received (DOMAIN.md §2: heat-stressed herds give less milk with higher CBT, and
    more of it is rejected at reception): raw milk received in QC-released lots in its effect window at least
    5 % below the baseline's (heat stress costs dairy herds 10-25 % of their yield within days; 5 % is the
    least a 10-day window must show).
    Judged on fct_scenario_kpis (effect_window) against the baseline over the same days; not judged when the
    window lies outside the data (assert_scenario_effect_windows_lie_in_the_data warns) or the baseline is not
    loaded. A row returned is a KPI that did not move as required.
-#}

with

scenario_kpis as (

    select * from {{ ref('fct_scenario_kpis') }}

),

-- direction: 1 = must rise, -1 = must fall, 0 = must change either way; by at least both minimums
required_moves as (

    select * from (
        values
        ('milk_received_l', -1, 0.05, 0)
    ) as moves (kpi_id, direction, min_relative_change, min_absolute_change)

),

moves as (

    select
        scenario_kpis.scenario_id,
        scenario_kpis.kpi_window,
        scenario_kpis.kpi_id,
        scenario_kpis.unit,
        scenario_kpis.kpi_value,
        scenario_kpis.baseline_kpi_value,
        required_moves.direction,
        required_moves.min_relative_change,
        required_moves.min_absolute_change,
        case
            when required_moves.direction = 0 then abs(scenario_kpis.diff_to_baseline)
            else required_moves.direction * scenario_kpis.diff_to_baseline
        end as achieved_change
    from scenario_kpis
    inner join required_moves
        on scenario_kpis.kpi_id = required_moves.kpi_id
    where scenario_kpis.scenario_id = 'heatwave' and scenario_kpis.kpi_window = 'effect_window'

),

final as (

    select * from moves
    where
        not coalesce(
            achieved_change >= min_absolute_change
            and achieved_change >= min_relative_change * abs(baseline_kpi_value),
            false
        )
        and exists (
            select 1 from scenario_kpis
            where scenario_kpis.scenario_id = 'baseline'
        )
        and exists (
            select 1 from scenario_kpis
            where scenario_kpis.scenario_id = 'heatwave' and scenario_kpis.kpi_window = 'effect_window'
        )

)

select * from final
