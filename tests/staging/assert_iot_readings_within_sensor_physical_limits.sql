-- IoT readings outside the physical limits of their sensor (physical_min/physical_max of the sensors seed).
-- Like the other tests of the readings, it judges the newest iot_readings_tested_days days (null: all of them):
-- why (and why two bounds), at the top of models/staging/scada/_scada__models.yml.
with

readings as (

    select * from {{ ref('stg_scada__iot_readings') }}
    {%- if var('iot_readings_tested_days') is not none %}
        where
            read_at >= (
                select max(read_at) from {{ source('scada', 'iot_readings') }}
            ) - interval '{{ var('iot_readings_tested_days') }} days'
            and read_at <= (select max(read_at) from {{ source('scada', 'iot_readings') }})
    {%- endif %}

),

sensors as (

    select * from {{ ref('stg_reference__sensors') }}

),

out_of_limits as (

    select
        readings.iot_reading_key,
        readings.scenario_id,
        readings.sensor_id,
        readings.read_at,
        readings.reading_value,
        sensors.physical_min,
        sensors.physical_max
    from readings
    inner join sensors
        on readings.sensor_id = sensors.sensor_id
    where
        readings.reading_value < sensors.physical_min
        or readings.reading_value > sensors.physical_max

)

select * from out_of_limits
