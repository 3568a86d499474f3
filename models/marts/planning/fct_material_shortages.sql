{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'planned_start_at']},
        ],
    )
}}

{#-
    The shortage report ("faltas de reserva"): one row per scenario, order and material that the stock on hand at
    the order's release could not fully cover, with what was required, reserved and is short. Requirements come
    through the reservation model only (it carries each requirement with its allocation); the order's product,
    line and planned kilos come from the order itself.
-#}

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

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
        released_at,
        planned_start_at,
        due_date,
        priority,
        requirement_quantity,
        unit,
        sum(reserved_quantity) as reserved_quantity,
        sum(short_quantity) as short_quantity
    from allocations
    group by
        scenario_id,
        order_id,
        material_id,
        released_at,
        planned_start_at,
        due_date,
        priority,
        requirement_quantity,
        unit

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
        production_orders.product_id,
        products.product_name,
        production_orders.line_id,
        shortages.material_id,
        raw_materials.material_name,
        shortages.released_at,
        shortages.planned_start_at,
        shortages.due_date,
        shortages.priority,
        production_orders.planned_kg,
        shortages.requirement_quantity as required_quantity,
        shortages.reserved_quantity,
        shortages.short_quantity,
        shortages.unit,
        cast(shortages.planned_start_at as date) - cast(shortages.released_at as date) as days_until_start
    from shortages
    inner join production_orders
        on
            shortages.scenario_id = production_orders.scenario_id
            and shortages.order_id = production_orders.order_id
    inner join products
        on production_orders.product_id = products.product_id
    inner join raw_materials
        on shortages.material_id = raw_materials.material_id

)

select * from final
