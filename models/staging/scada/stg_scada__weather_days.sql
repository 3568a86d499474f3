with

source as (

    select * from {{ source('scada', 'weather_daily') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'weather_date']) }} as weather_day_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,

        -- dates
        cast(weather_date as date) as weather_date,

        -- measures
        cast(ambient_mean_degc as {{ type_decimal() }}) as ambient_mean_degc,
        cast(ambient_max_degc as {{ type_decimal() }}) as ambient_max_degc,

        -- metadata
        loaded_at

    from source

)

select * from renamed
