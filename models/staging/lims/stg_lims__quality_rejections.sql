with

source as (

    select * from {{ source('lims', 'quality_rejections') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'rejection_id']) }} as rejection_key,
        cast(scenario_id as text) as scenario_id,
        cast(rejection_id as text) as rejection_id,
        {{ surrogate_key(['scenario_id', 'order_id']) }} as order_key,
        cast(order_id as text) as order_id,
        cast(rejection_cause_id as text) as rejection_cause_id,

        -- timestamps
        cast(detected_at as timestamp) as detected_at,

        -- quantities
        cast(rejected_kg as numeric) as rejected_kg,

        -- metadata
        loaded_at

    from source

)

select * from renamed
