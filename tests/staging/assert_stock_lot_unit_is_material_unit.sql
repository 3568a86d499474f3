-- Stock lots whose unit of measure differs from their material's unit (quantities would not add up).
with

lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

mismatched as (

    select
        lots.lot_key,
        lots.material_id,
        lots.unit as lot_unit,
        materials.unit as material_unit
    from lots
    inner join materials
        on lots.material_id = materials.material_id
    where lots.unit <> materials.unit

)

select * from mismatched
