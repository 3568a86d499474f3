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
    line and planned kilos come from the order itself. A cancelled order's shortage is no longer one (it gave its
    requirement up); its replacement, an order of its own, shows its own.
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

-- The closing row of each (order, material) carries the requirement and what stayed short; an order cancelled
-- (within the loaded data) has all its rows marked returned_at.
shortages as (

    select
        scenario_id,
        order_id,
        material_id,
        released_at,
        planned_start_at,
        due_date,
        priority,
        requirement_quantity,
        short_quantity,
        unit
    from allocations
    where allocation_kind = 'shortage' and short_quantity > 0 and returned_at is null

),

reserved as (

    select
        allocations.scenario_id,
        allocations.order_id,
        allocations.material_id,
        sum(allocations.reserved_quantity) as reserved_quantity
    from allocations
    inner join shortages
        on
            allocations.scenario_id = shortages.scenario_id
            and allocations.order_id = shortages.order_id
            and allocations.material_id = shortages.material_id
    where allocations.allocation_kind = 'reservation'
    group by allocations.scenario_id, allocations.order_id, allocations.material_id

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
        coalesce(reserved.reserved_quantity, 0) as reserved_quantity,
        shortages.short_quantity,
        shortages.unit,
        cast(shortages.planned_start_at as date) - cast(shortages.released_at as date) as days_until_start
    from shortages
    left join reserved
        on
            shortages.scenario_id = reserved.scenario_id
            and shortages.order_id = reserved.order_id
            and shortages.material_id = reserved.material_id
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
