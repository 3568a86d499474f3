{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'sensor_id', 'reading_date']},
            {'columns': ['scenario_id', 'reading_date']},
        ],
    )
}}

{#-
    One row per scenario, sensor and day with readings: the daily aggregates of int_sensor_days_aggregated (the
    one pass over the readings) and the minutes out of spec, fct_iot_excursions cut at midnight, so that a
    sensor's minutes out of spec over any days add up to its excursions' minutes. Small (sensors x days): a
    table rebuilt on every run.
-#}

with

sensor_days as (

    select * from {{ ref('int_sensor_days_aggregated') }}

),

iot_excursions as (

    select * from {{ ref('fct_iot_excursions') }}

),

-- Each excursion cut at midnight into the days it covers (most cover one).
excursion_days as (

    select
        iot_excursions.scenario_id,
        iot_excursions.sensor_id,
        cast(covered_day.day_start_at as date) as reading_date,
        least(iot_excursions.out_of_spec_until_at, covered_day.day_start_at + interval '1 day')
        - greatest(iot_excursions.started_at, covered_day.day_start_at) as out_of_spec_duration
    from iot_excursions
    cross join lateral generate_series(
        date_trunc('day', iot_excursions.started_at),
        iot_excursions.out_of_spec_until_at - interval '1 microsecond',
        interval '1 day'
    ) as covered_day (day_start_at)

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
        sensor_days.sensor_day_key,
        sensor_days.scenario_id,
        sensor_days.sensor_id,
        sensor_days.reading_date,
        sensor_days.reading_count,
        sensor_days.out_of_spec_reading_count,
        coalesce(daily_excursions.out_of_spec_min, 0) as out_of_spec_min,
        coalesce(daily_excursions.excursion_count, 0) as excursion_count,
        sensor_days.value_min,
        sensor_days.value_max,
        sensor_days.value_sum,
        trim_scale({{ safe_divide('sensor_days.value_sum', 'sensor_days.reading_count') }}) as value_mean
    from sensor_days
    left join daily_excursions
        on
            sensor_days.scenario_id = daily_excursions.scenario_id
            and sensor_days.sensor_id = daily_excursions.sensor_id
            and sensor_days.reading_date = daily_excursions.reading_date

)

select * from final
