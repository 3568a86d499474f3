{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sensor_day_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['sensor_day_key'], 'unique': True},
            {'columns': ['scenario_id', 'scenario_load_id']},
            {'columns': ['scenario_id', 'sensor_id', 'reading_date']},
            {'columns': ['scenario_id', 'reading_date']},
        ],
    )
}}

{#-
    One row per scenario, sensor and day with readings: the daily aggregates of int_sensor_days_aggregated (the
    one pass over the readings) and the minutes out of spec, fct_iot_excursions cut at midnight, so that a
    sensor's minutes out of spec over any days add up to its excursions' minutes.

    Incremental runs recompute, per scenario, the last day built (it may have been partial) and every later one.
    An earlier day never changes: an excursion still open at the end of the previous data covered each earlier
    day to midnight already, and closing it later changes only the days after. A scenario whose raw data the
    loader replaced has no row left (delete_replaced_scenario_rows) and is computed from its first day.
-#}

with

sensor_days as (

    select * from {{ ref('int_sensor_days_aggregated') }}

),

iot_excursions as (

    select * from {{ ref('fct_iot_excursions') }}

),

scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

days_before as (

    {% if is_incremental() -%}
        select
            scenario_id,
            max(reading_date) as last_reading_date
        from {{ this }}
        group by scenario_id
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as date) as last_reading_date
        where false
    {%- endif %}

),

days_in_scope as (

    select sensor_days.*
    from sensor_days
    left join days_before
        on sensor_days.scenario_id = days_before.scenario_id
    where sensor_days.reading_date >= coalesce(days_before.last_reading_date, '-infinity')

),

-- Each excursion that reaches the days in scope, cut at midnight into the days it covers (most cover one).
excursion_days as (

    select
        iot_excursions.scenario_id,
        iot_excursions.sensor_id,
        cast(covered_day.day_start_at as date) as reading_date,
        least(iot_excursions.out_of_spec_until_at, covered_day.day_start_at + interval '1 day')
        - greatest(iot_excursions.started_at, covered_day.day_start_at) as out_of_spec_duration
    from iot_excursions
    left join days_before
        on iot_excursions.scenario_id = days_before.scenario_id
    cross join
        lateral generate_series(
            date_trunc('day', iot_excursions.started_at),
            iot_excursions.out_of_spec_until_at - interval '1 microsecond',
            interval '1 day'
        ) as covered_day (day_start_at)
    where iot_excursions.out_of_spec_until_at > coalesce(cast(days_before.last_reading_date as timestamp), '-infinity')

),

daily_excursions as (

    select
        scenario_id,
        sensor_id,
        reading_date,
        -- Minutes to 4 decimals, without trailing zeros (10, not 10.0000).
        trim_scale(round(extract(epoch from sum(out_of_spec_duration)) / 60, 4)) as out_of_spec_min,
        count(*) as excursion_count
    from excursion_days
    group by scenario_id, sensor_id, reading_date

),

final as (

    select
        days_in_scope.sensor_day_key,
        days_in_scope.scenario_id,
        scenario_loads.scenario_load_id,
        days_in_scope.sensor_id,
        days_in_scope.reading_date,
        days_in_scope.reading_count,
        days_in_scope.idle_reading_count,
        days_in_scope.out_of_spec_reading_count,
        coalesce(daily_excursions.out_of_spec_min, 0) as out_of_spec_min,
        coalesce(daily_excursions.excursion_count, 0) as excursion_count,
        days_in_scope.value_min,
        days_in_scope.value_max,
        days_in_scope.value_sum,
        trim_scale({{ safe_divide('days_in_scope.value_sum', 'days_in_scope.reading_count') }}) as value_mean
    from days_in_scope
    left join daily_excursions
        on
            days_in_scope.scenario_id = daily_excursions.scenario_id
            and days_in_scope.sensor_id = daily_excursions.sensor_id
            and days_in_scope.reading_date = daily_excursions.reading_date
    left join scenario_loads
        on days_in_scope.scenario_id = scenario_loads.scenario_id

)

select * from final
