-- IoT readings outside the physical limits of their sensor (physical_min/physical_max of the sensors seed).
with

readings as (

    select * from {{ ref('stg_scada__iot_readings') }}

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
