{#-
    The shortage report ("faltas de reserva"): one row per scenario, order and material that the stock on hand at
    the order's release could not fully cover, with what was required, reserved and is short.
-#}

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

material_requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

requirement_totals as (

    select
        scenario_id,
        order_id,
        material_id,
        sum(reserved_quantity) as reserved_quantity,
        sum(short_quantity) as short_quantity
    from allocations
    group by scenario_id, order_id, material_id

),

shortages as (

    select * from requirement_totals
    where short_quantity > 0

),

final as (

    select
        {{ surrogate_key(['shortages.scenario_id', 'shortages.order_id', 'shortages.material_id']) }}
            as material_shortage_key,
        shortages.scenario_id,
        shortages.order_id,
        material_requirements.product_id,
        products.product_name,
        material_requirements.line_id,
        shortages.material_id,
        raw_materials.material_name,
        material_requirements.released_at,
        material_requirements.planned_start_at,
        material_requirements.due_date,
        material_requirements.priority,
        material_requirements.planned_kg,
        material_requirements.requirement_quantity as required_quantity,
        shortages.reserved_quantity,
        shortages.short_quantity,
        material_requirements.unit,
        cast(material_requirements.planned_start_at as date)
        - cast(material_requirements.released_at as date) as days_until_start
    from shortages
    inner join material_requirements
        on
            shortages.scenario_id = material_requirements.scenario_id
            and shortages.order_id = material_requirements.order_id
            and shortages.material_id = material_requirements.material_id
    inner join products
        on material_requirements.product_id = products.product_id
    inner join raw_materials
        on shortages.material_id = raw_materials.material_id

)

select * from final
