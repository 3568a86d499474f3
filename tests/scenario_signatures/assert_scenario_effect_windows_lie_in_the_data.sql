{{ config(tags=['scenario_signature'], severity='warn') }}

{#-
    Every scenario with an effect (seeds/scenarios.csv: a calendar window every year) has its effect window in
    its data (DOMAIN.md §2: a horizon that misses a scenario's window must say so, not pass as a silent
    baseline). `queijaria generate` refuses such a horizon; a row here is data that came another way (hand-made
    or older batches) whose effect lies wholly outside its days, so that its KPIs cannot show the effect and its
    signatures are not judged. A warning: the data is what it is, not a broken model.
-#}

with

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

scenario_windows as (

    select * from {{ ref('int_scenario_windows_dated') }}

),

horizons as (

    select * from scenario_windows
    where kpi_window = 'whole_horizon'

),

effect_windows as (

    select * from scenario_windows
    where kpi_window = 'effect_window'

),

final as (

    select
        horizons.scenario_id,
        horizons.data_first_date,
        horizons.data_last_date,
        scenarios.effect_start_month,
        scenarios.effect_start_day_of_month,
        scenarios.effect_days
    from horizons
    inner join scenarios
        on horizons.scenario_id = scenarios.scenario_id
    where
        scenarios.effect_start_month is not null
        and not exists (
            select 1 from effect_windows
            where effect_windows.scenario_id = horizons.scenario_id
        )

)

select * from final
