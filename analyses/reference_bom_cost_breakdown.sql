-- Where the standard material cost of each cheese goes: the share of each material in the recipe cost.
with

recipe_lines as (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

costed as (

    select
        recipe_lines.product_id,
        recipe_lines.material_id,
        raw_materials.unit,
        recipe_lines.quantity_per_kg * (1 + recipe_lines.scrap_factor) as quantity_with_scrap_per_kg,
        recipe_lines.quantity_per_kg
        * (1 + recipe_lines.scrap_factor)
        * raw_materials.unit_cost_brl as cost_brl_per_kg
    from recipe_lines
    inner join raw_materials
        on recipe_lines.material_id = raw_materials.material_id

),

final as (

    select
        product_id,
        material_id,
        unit,
        quantity_with_scrap_per_kg,
        cost_brl_per_kg,
        cost_brl_per_kg / sum(cost_brl_per_kg) over (partition by product_id) as cost_share
    from costed

)

select * from final
order by product_id asc, cost_brl_per_kg desc
