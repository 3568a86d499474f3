with

source as (

    select * from {{ source('erp', 'stock_lots') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as lot_key,
        cast(scenario_id as text) as scenario_id,
        cast(lot_id as text) as lot_id,
        cast(material_id as text) as material_id,
        cast(supplier_name as text) as supplier_name,
        cast(source_order_id as text) as source_order_id,
        cast(purchase_order_id as text) as purchase_order_id,
        cast(route_id as text) as route_id,

        -- timestamps and dates
        cast(received_at as timestamp) as received_at,
        cast(expires_at as timestamp) as expires_at,

        -- quantities (quantity is in the material's own unit, named by unit)
        cast(quantity as numeric) as quantity,
        cast(unit as text) as unit,

        -- quality control
        cast(qc_status as text) as qc_status,
        qc_status = 'released' as is_qc_released,

        -- cost
        cast(unit_cost_brl as numeric) as unit_cost_brl,

        -- milk composition and hygiene (milk lots only)
        cast(fat_pct as numeric) as fat_pct,
        cast(protein_pct as numeric) as protein_pct,
        cast(cbt_thousand_cfu_per_ml as numeric) as cbt_thousand_cfu_per_ml,
        cast(ccs_thousand_cells_per_ml as numeric) as ccs_thousand_cells_per_ml,

        -- metadata
        loaded_at

    from source

)

select * from renamed
