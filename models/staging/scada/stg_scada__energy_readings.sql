with

source as (

    select * from {{ source('scada', 'energy_readings') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'meter_id', 'interval_start_at']) }} as energy_reading_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(meter_id as {{ dbt.type_string() }}) as meter_id,

        -- timestamps (15-minute intervals)
        cast(interval_start_at as timestamp) as interval_start_at,
        cast(interval_start_at as timestamp) + interval '15 minutes' as interval_end_at,

        -- measures
        cast(kwh as {{ type_decimal() }}) as energy_kwh,

        -- metadata
        loaded_at

    from source

)

select * from renamed
