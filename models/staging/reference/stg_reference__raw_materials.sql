with

source as (

    select * from {{ ref('raw_materials') }}

),

renamed as (

    select
        material_id,
        material_name,
        category,
        unit,
        unit_cost_brl,
        shelf_life_days,
        lead_time_days,
        is_internal
    from source

)

select * from renamed
