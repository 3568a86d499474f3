with

source as (

    select * from {{ source('scada', 'iot_readings') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'sensor_id', 'read_at']) }} as iot_reading_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(sensor_id as {{ dbt.type_string() }}) as sensor_id,

        -- timestamps
        cast(read_at as timestamp) as read_at,

        -- measures (in the sensor's unit: stg_reference__sensors.unit)
        cast(value as {{ type_double() }}) as reading_value,

        -- booleans
        cast(is_equipment_idle as boolean) as is_equipment_idle,

        -- metadata
        loaded_at

    from source

)

select * from renamed
