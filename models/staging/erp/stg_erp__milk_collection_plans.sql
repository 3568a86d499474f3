with

source as (

    select * from {{ source('erp', 'milk_collection_plan') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'collection_date', 'route_id']) }} as milk_collection_plan_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(route_id as {{ dbt.type_string() }}) as route_id,

        -- timestamps and dates
        cast(collection_date as date) as collection_date,
        cast(planned_at as timestamp) as planned_at,
        cast(expected_at as timestamp) as expected_at,

        -- quantities
        cast(planned_l as {{ type_decimal() }}) as planned_l,
        cast(farm_count as integer) as farm_count,

        -- metadata
        loaded_at

    from source

)

select * from renamed
