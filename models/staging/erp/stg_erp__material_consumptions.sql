with

source as (

    select * from {{ source('erp', 'material_consumptions') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'consumption_id']) }} as consumption_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(consumption_id as {{ dbt.type_string() }}) as consumption_id,
        {{ surrogate_key(['scenario_id', 'order_id']) }} as order_key,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as lot_key,
        cast(lot_id as {{ dbt.type_string() }}) as lot_id,
        cast(material_id as {{ dbt.type_string() }}) as material_id,

        -- timestamps
        cast(consumed_at as timestamp) as consumed_at,

        -- quantities (in the material's own unit, see stg_reference__raw_materials.unit)
        cast(quantity as {{ type_decimal() }}) as quantity,

        -- goods issue against the ERP's reservation (DOMAIN.md §3)
        cast(deviation_reason as {{ dbt.type_string() }}) as deviation_reason,
        deviation_reason is null as is_from_reserved_lot,

        -- metadata
        loaded_at

    from source

)

select * from renamed
