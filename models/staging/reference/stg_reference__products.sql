with

source as (

    select * from {{ ref('products') }}

),

renamed as (

    select
        product_id,
        product_name,
        line_id,
        input_material_id,
        input_l_per_kg,
        whey_l_per_kg,
        moisture_target_pct,
        shelf_life_days,
        ripening_days,
        pack_size_kg,
        ideal_rate_kg_per_h,
        list_price_brl_per_kg
    from source

)

select * from renamed
