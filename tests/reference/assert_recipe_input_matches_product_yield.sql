-- Every product's recipe consumes its main dairy input at exactly the product's standard yield,
-- so that yield analyses and material requirements speak of the same litres.
with

products as (

    select * from {{ ref('stg_reference__products') }}

),

recipe_lines as (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

final as (

    select
        products.product_id,
        products.input_material_id,
        products.input_l_per_kg,
        recipe_lines.quantity_per_kg as recipe_input_l_per_kg
    from products
    left join recipe_lines
        on
            products.product_id = recipe_lines.product_id
            and products.input_material_id = recipe_lines.material_id
    where
        recipe_lines.quantity_per_kg is null
        or recipe_lines.quantity_per_kg <> products.input_l_per_kg

)

select * from final
