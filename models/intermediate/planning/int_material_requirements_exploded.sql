{{
    config(
        materialized='view',
    )
}}

{#-
    The bill of materials exploded over the production orders: what each order needs of each material.
    A view, so that the incremental reservation model reads current orders without a rebuild of this step.
-#}

with

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

recipe_lines as (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

exploded as (

    select
        production_orders.scenario_id,
        production_orders.order_id,
        recipe_lines.material_id,
        production_orders.product_id,
        production_orders.line_id,
        production_orders.created_at,
        production_orders.released_at,
        production_orders.cancelled_at,
        production_orders.planned_start_at,
        production_orders.actual_start_at,
        production_orders.due_date,
        production_orders.priority,
        production_orders.planned_kg,
        cast(recipe_lines.quantity_per_kg as {{ type_decimal() }}) as quantity_per_kg,
        cast(recipe_lines.scrap_factor as {{ type_decimal() }}) as scrap_factor,
        -- To the thousandth of the material's unit, the precision the ERP records quantities in (the CSVs' too).
        round(
            production_orders.planned_kg
            * cast(recipe_lines.quantity_per_kg as {{ type_decimal() }})
            * (1 + cast(recipe_lines.scrap_factor as {{ type_decimal() }})),
            3
        ) as requirement_quantity,
        raw_materials.unit,
        production_orders.loaded_at
    from production_orders
    inner join recipe_lines
        on production_orders.product_id = recipe_lines.product_id
    inner join raw_materials
        on recipe_lines.material_id = raw_materials.material_id

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'order_id', 'material_id']) }} as material_requirement_key,
        scenario_id,
        order_id,
        material_id,
        product_id,
        line_id,
        created_at,
        released_at,
        released_at is not null as is_released,
        cancelled_at,
        planned_start_at,
        actual_start_at,
        due_date,
        priority,
        planned_kg,
        quantity_per_kg,
        scrap_factor,
        requirement_quantity,
        unit,
        loaded_at
    from exploded

)

select * from final
