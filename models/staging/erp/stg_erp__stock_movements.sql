with

source as (

    select * from {{ source('erp', 'stock_movements') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'movement_id']) }} as movement_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(movement_id as {{ dbt.type_string() }}) as movement_id,
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as lot_key,
        cast(lot_id as {{ dbt.type_string() }}) as lot_id,
        cast(material_id as {{ dbt.type_string() }}) as material_id,

        -- what happened
        cast(movement_type as {{ dbt.type_string() }}) as movement_type,
        movement_type = 'spot_sale' as is_spot_sale,

        -- timestamps
        cast(moved_at as timestamp) as moved_at,

        -- quantities (in the material's own unit, see stg_reference__raw_materials.unit) and value
        cast(quantity as {{ type_decimal() }}) as quantity,
        cast(unit_price_brl as {{ type_decimal() }}) as unit_price_brl,
        cast(quantity as {{ type_decimal() }}) * cast(unit_price_brl as {{ type_decimal() }}) as sale_value_brl,

        -- metadata
        loaded_at

    from source

)

select * from renamed
