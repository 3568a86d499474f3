with

source as (

    select * from {{ source('erp', 'purchase_orders') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'purchase_order_id']) }} as purchase_order_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(purchase_order_id as {{ dbt.type_string() }}) as purchase_order_id,
        cast(material_id as {{ dbt.type_string() }}) as material_id,
        cast(supplier_name as {{ dbt.type_string() }}) as supplier_name,

        -- timestamps
        cast(ordered_at as timestamp) as ordered_at,
        cast(due_at as timestamp) as due_at,

        -- quantities (in the material's own unit, named by unit)
        cast(quantity as {{ type_decimal() }}) as quantity,
        cast(unit as {{ dbt.type_string() }}) as unit,

        -- metadata
        loaded_at

    from source

)

select * from renamed
