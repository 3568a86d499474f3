with

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

recipe_lines as (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

recipe_usage as (

    select
        material_id,
        count(distinct product_id) as product_count
    from recipe_lines
    group by material_id

),

final as (

    select
        raw_materials.material_id,
        raw_materials.material_name,
        raw_materials.category,
        raw_materials.unit,
        raw_materials.unit_cost_brl,
        raw_materials.shelf_life_days,
        raw_materials.lead_time_days,
        raw_materials.is_internal,
        coalesce(recipe_usage.product_count, 0) as product_count
    from raw_materials
    left join recipe_usage
        on raw_materials.material_id = recipe_usage.material_id

)

select * from final
