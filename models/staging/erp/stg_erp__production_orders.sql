with

source as (

    select * from {{ source('erp', 'production_orders') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'order_id']) }} as order_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(line_id as {{ dbt.type_string() }}) as line_id,

        -- planning timestamps and dates
        cast(created_at as timestamp) as created_at,
        cast(released_at as timestamp) as released_at,
        cast(planned_start_at as timestamp) as planned_start_at,
        cast(planned_end_at as timestamp) as planned_end_at,
        cast(due_date as date) as due_date,
        cast(priority as integer) as priority,
        cast(planned_kg as {{ type_decimal() }}) as planned_kg,

        -- execution
        cast(status as {{ dbt.type_string() }}) as status,
        cast(actual_start_at as timestamp) as actual_start_at,
        cast(actual_end_at as timestamp) as actual_end_at,
        cast(produced_kg as {{ type_decimal() }}) as produced_kg,
        cast(good_kg as {{ type_decimal() }}) as good_kg,
        cast(cancelled_at as timestamp) as cancelled_at,
        cast(replaces_order_id as {{ dbt.type_string() }}) as replaces_order_id,

        -- metadata
        loaded_at

    from source

)

select * from renamed
