-- Invariant (DOMAIN.md §3): no reservation for an order before its release. Every allocated order is released,
-- each row carries the order's own released_at, and no reserved lot was received after it.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

final as (

    select
        allocations.stock_allocation_key,
        allocations.scenario_id,
        allocations.order_id,
        allocations.lot_id,
        allocations.released_at as allocated_at_release,
        production_orders.released_at,
        stock_lots.received_at
    from allocations
    left join production_orders
        on
            allocations.scenario_id = production_orders.scenario_id
            and allocations.order_id = production_orders.order_id
    left join stock_lots
        on
            allocations.scenario_id = stock_lots.scenario_id
            and allocations.lot_id = stock_lots.lot_id
    where
        production_orders.released_at is null
        or allocations.released_at != production_orders.released_at
        or stock_lots.received_at > production_orders.released_at

)

select * from final
