with

source as (

    select * from {{ ref('recipe_lines') }}

),

renamed as (

    select
        {{ surrogate_key(['product_id', 'material_id']) }} as recipe_line_key,
        product_id,
        material_id,
        quantity_per_kg,
        scrap_factor
    from source

)

select * from renamed
