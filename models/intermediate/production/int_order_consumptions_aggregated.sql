{#-
    What each order consumed: raw milk litres (lots of the 'milk' category), how much of it came from the lots
    the ERP reserved for the order (FEFO compliance, DOMAIN.md §4), and the cost of every material issued to it,
    valued at the unit cost of the lot it came from.
-#}

with

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

final as (

    select
        material_consumptions.order_key,
        material_consumptions.scenario_id,
        material_consumptions.order_id,
        count(*) as consumption_count,
        coalesce(
            sum(material_consumptions.quantity) filter (where raw_materials.category = 'milk'), 0
        ) as milk_consumed_l,
        coalesce(
            sum(material_consumptions.quantity) filter (
                where raw_materials.category = 'milk' and material_consumptions.is_from_reserved_lot
            ),
            0
        ) as milk_issued_from_reserved_l,
        sum(material_consumptions.quantity * stock_lots.unit_cost_brl) as material_cost_brl
    from material_consumptions
    inner join stock_lots
        on material_consumptions.lot_key = stock_lots.lot_key
    inner join raw_materials
        on material_consumptions.material_id = raw_materials.material_id
    group by
        material_consumptions.order_key,
        material_consumptions.scenario_id,
        material_consumptions.order_id

)

select * from final
