with

source as (

    select * from {{ source('erp', 'stock_lots') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as lot_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(lot_id as {{ dbt.type_string() }}) as lot_id,
        cast(material_id as {{ dbt.type_string() }}) as material_id,
        cast(supplier_name as {{ dbt.type_string() }}) as supplier_name,
        cast(source_order_id as {{ dbt.type_string() }}) as source_order_id,
        cast(purchase_order_id as {{ dbt.type_string() }}) as purchase_order_id,
        cast(route_id as {{ dbt.type_string() }}) as route_id,

        -- timestamps and dates
        cast(received_at as timestamp) as received_at,
        cast(expires_at as timestamp) as expires_at,

        -- quantities (quantity is in the material's own unit, named by unit)
        cast(quantity as {{ type_decimal() }}) as quantity,
        cast(unit as {{ dbt.type_string() }}) as unit,

        -- quality control
        cast(qc_status as {{ dbt.type_string() }}) as qc_status,
        qc_status = 'released' as is_qc_released,

        -- cost
        cast(unit_cost_brl as {{ type_decimal() }}) as unit_cost_brl,

        -- milk composition and hygiene (milk lots only)
        cast(fat_pct as {{ type_decimal() }}) as fat_pct,
        cast(protein_pct as {{ type_decimal() }}) as protein_pct,
        cast(cbt_thousand_cfu_per_ml as {{ type_decimal() }}) as cbt_thousand_cfu_per_ml,
        cast(ccs_thousand_cells_per_ml as {{ type_decimal() }}) as ccs_thousand_cells_per_ml,

        -- metadata
        loaded_at

    from source

)

select * from renamed
