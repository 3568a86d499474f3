-- Invariant (DOMAIN.md §3): reserved + short = requirement for every (order, material) of an allocated order.
-- Returns the requirements whose rows do not add up, and rows of a material the order does not need.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

material_requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

),

allocated_orders as (

    select distinct
        scenario_id,
        order_id
    from allocations

),

allocated_totals as (

    select
        scenario_id,
        order_id,
        material_id,
        sum(reserved_quantity) as reserved_quantity,
        sum(short_quantity) as short_quantity,
        count(*) filter (where lot_id is null) as shortage_rows
    from allocations
    group by scenario_id, order_id, material_id

),

requirements_of_allocated_orders as (

    select material_requirements.*
    from material_requirements
    inner join allocated_orders
        on
            material_requirements.scenario_id = allocated_orders.scenario_id
            and material_requirements.order_id = allocated_orders.order_id

),

final as (

    select
        coalesce(requirements_of_allocated_orders.scenario_id, allocated_totals.scenario_id) as scenario_id,
        coalesce(requirements_of_allocated_orders.order_id, allocated_totals.order_id) as order_id,
        coalesce(requirements_of_allocated_orders.material_id, allocated_totals.material_id) as material_id,
        requirements_of_allocated_orders.requirement_quantity,
        allocated_totals.reserved_quantity,
        allocated_totals.short_quantity,
        allocated_totals.shortage_rows
    from requirements_of_allocated_orders
    full outer join allocated_totals
        on
            requirements_of_allocated_orders.scenario_id = allocated_totals.scenario_id
            and requirements_of_allocated_orders.order_id = allocated_totals.order_id
            and requirements_of_allocated_orders.material_id = allocated_totals.material_id
    where
        requirements_of_allocated_orders.requirement_quantity is null
        or allocated_totals.reserved_quantity is null
        or allocated_totals.shortage_rows != 1
        or allocated_totals.reserved_quantity + allocated_totals.short_quantity
        != requirements_of_allocated_orders.requirement_quantity

)

select * from final
