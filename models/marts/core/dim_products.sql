with

products as (

    select * from {{ ref('stg_reference__products') }}

),

recipe_lines as (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

lines as (

    select * from {{ ref('stg_reference__lines') }}

),

recipe_standards as (

    select
        recipe_lines.product_id,
        sum(recipe_lines.quantity_per_kg) filter (
            where raw_materials.material_id = 'MILK'
        ) as standard_milk_l_per_kg,
        sum(
            recipe_lines.quantity_per_kg
            * (1 + recipe_lines.scrap_factor)
            * raw_materials.unit_cost_brl
        ) as standard_material_cost_brl_per_kg,
        count(*) as recipe_line_count
    from recipe_lines
    inner join raw_materials
        on recipe_lines.material_id = raw_materials.material_id
    group by recipe_lines.product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.line_id,
        lines.line_name,
        products.input_material_id,
        products.input_l_per_kg,
        coalesce(recipe_standards.standard_milk_l_per_kg, 0) as standard_milk_l_per_kg,
        recipe_standards.standard_material_cost_brl_per_kg,
        recipe_standards.recipe_line_count,
        products.whey_l_per_kg,
        products.moisture_target_pct,
        products.shelf_life_days,
        products.ripening_days,
        products.pack_size_kg,
        products.ideal_rate_kg_per_h,
        60.0 / products.ideal_rate_kg_per_h as planned_run_min_per_kg,
        products.list_price_brl_per_kg,
        products.list_price_brl_per_kg
        - recipe_standards.standard_material_cost_brl_per_kg as standard_margin_brl_per_kg
    from products
    inner join lines
        on products.line_id = lines.line_id
    left join recipe_standards
        on products.product_id = recipe_standards.product_id

)

select * from final
