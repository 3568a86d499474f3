-- A sensor's days add up to its excursions: the same out-of-spec readings, and the same minutes out of spec
-- (each side rounded to 4 decimals per row, hence the tolerance). Returns the sensors where they do not.

with

sensor_daily as (

    select * from {{ ref('fct_sensor_daily') }}

),

iot_excursions as (

    select * from {{ ref('fct_iot_excursions') }}

),

daily_totals as (

    select
        scenario_id,
        sensor_id,
        sum(out_of_spec_reading_count) as out_of_spec_reading_count,
        sum(out_of_spec_min) as out_of_spec_min,
        count(*) as row_count
    from sensor_daily
    group by scenario_id, sensor_id

),

excursion_totals as (

    select
        scenario_id,
        sensor_id,
        sum(out_of_spec_reading_count) as out_of_spec_reading_count,
        sum(excursion_min) as out_of_spec_min,
        count(*) as row_count
    from iot_excursions
    group by scenario_id, sensor_id

),

final as (

    select
        daily_totals.scenario_id,
        daily_totals.sensor_id,
        daily_totals.out_of_spec_reading_count as daily_out_of_spec_readings,
        coalesce(excursion_totals.out_of_spec_reading_count, 0) as excursion_out_of_spec_readings,
        daily_totals.out_of_spec_min as daily_out_of_spec_min,
        coalesce(excursion_totals.out_of_spec_min, 0) as excursion_out_of_spec_min
    from daily_totals
    left join excursion_totals
        on
            daily_totals.scenario_id = excursion_totals.scenario_id
            and daily_totals.sensor_id = excursion_totals.sensor_id
    where
        daily_totals.out_of_spec_reading_count != coalesce(excursion_totals.out_of_spec_reading_count, 0)
        or abs(daily_totals.out_of_spec_min - coalesce(excursion_totals.out_of_spec_min, 0))
        > 0.0001 * (daily_totals.row_count + coalesce(excursion_totals.row_count, 0))

)

select * from final
