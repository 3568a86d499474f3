{#-
    A scenario signature (DOMAIN.md §2), applied to fct_scenario_kpis: scenario_id moves kpi_id against the
    baseline measured over the same days of kpi_window ('effect_window', 'effect_and_recovery' or
    'whole_horizon') in direction (1 = must rise, -1 = must fall, 0 = must change either way) by at least
    min_relative_change of the baseline's value and at least min_absolute_change in the KPI's unit. Each use says
    in its description why the scenario must move that KPI by that much.
    Not judged (no row) when the scenario's effect window lies outside the data (its scenario has no effect_window
    row; assert_scenario_effect_windows_lie_in_the_data warns), when the data holds only part of the window
    (is_window_complete false: ten days of a month's peak do not show what the month does; `queijaria generate`
    warns of such a horizon) or when the baseline is not loaded: there would be nothing to compare. A row returned
    is the KPI that did not move as required, with the change it achieved.
-#}
{% test scenario_signature(
    model,
    scenario_id,
    kpi_id,
    direction,
    min_relative_change,
    min_absolute_change,
    kpi_window='effect_window'
) %}

{%- if direction not in (-1, 0, 1) -%}
    {{ exceptions.raise_compiler_error(
        "scenario_signature of " ~ scenario_id ~ " on " ~ kpi_id ~ ": direction is 1 (rise), -1 (fall) or 0 "
        ~ "(either way), not " ~ direction
    ) }}
{%- endif %}

with

scenario_kpis as (

    select * from {{ model }}

),

required_moves as (

    select
        '{{ kpi_id }}' as kpi_id,
        {{ direction }} as direction,
        {{ min_relative_change }} as min_relative_change,
        {{ min_absolute_change }} as min_absolute_change

),

moves as (

    select
        scenario_kpis.scenario_id,
        scenario_kpis.kpi_window,
        scenario_kpis.kpi_id,
        scenario_kpis.unit,
        scenario_kpis.kpi_value,
        scenario_kpis.baseline_kpi_value,
        scenario_kpis.is_window_complete,
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
    where scenario_kpis.scenario_id = '{{ scenario_id }}' and scenario_kpis.kpi_window = '{{ kpi_window }}'

),

final as (

    select * from moves
    where
        is_window_complete
        and not coalesce(
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
            where scenario_kpis.scenario_id = '{{ scenario_id }}' and scenario_kpis.kpi_window = 'effect_window'
        )

)

select * from final

{% endtest %}
