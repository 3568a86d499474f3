with

source as (

    select * from {{ source('lims', 'quality_rejections') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'rejection_id']) }} as rejection_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(rejection_id as {{ dbt.type_string() }}) as rejection_id,
        {{ surrogate_key(['scenario_id', 'order_id']) }} as order_key,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(rejection_cause_id as {{ dbt.type_string() }}) as rejection_cause_id,

        -- timestamps
        cast(detected_at as timestamp) as detected_at,

        -- quantities
        cast(rejected_kg as {{ type_decimal() }}) as rejected_kg,

        -- metadata
        loaded_at

    from source

)

select * from renamed
