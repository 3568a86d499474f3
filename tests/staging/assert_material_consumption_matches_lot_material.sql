-- Material issues whose material differs from the material of the lot they were taken from.
with

consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

mismatched as (

    select
        consumptions.consumption_key,
        consumptions.material_id as consumed_material_id,
        lots.material_id as lot_material_id
    from consumptions
    inner join lots
        on consumptions.lot_key = lots.lot_key
    where consumptions.material_id <> lots.material_id

)

select * from mismatched
