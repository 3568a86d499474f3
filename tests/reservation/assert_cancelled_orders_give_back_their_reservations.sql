-- Invariant (DOMAIN.md §3): an order cancelled at t gives everything it reserved back at t. Every row of an order
-- cancelled after its release, within the data its scenario has loaded (the latest order created_at or lot
-- received_at, as the reservation reads it), is given back whole at its cancelled_at; no other row is given back;
-- an order cancelled at or before its release has no rows (it reserved nothing). Returns the rows that break it.

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

loaded_events as (

    select
        scenario_id,
        created_at as event_at
    from production_orders

    union all

    select
        scenario_id,
        received_at as event_at
    from stock_lots

),

data_horizons as (

    select
        scenario_id,
        max(event_at) as horizon_at
    from loaded_events
    group by scenario_id

),

final as (

    select
        allocations.stock_allocation_key,
        allocations.scenario_id,
        allocations.order_id,
        allocations.lot_id,
        allocations.released_at,
        allocations.reserved_quantity,
        allocations.returned_quantity,
        allocations.returned_at,
        production_orders.cancelled_at,
        data_horizons.horizon_at
    from allocations
    left join production_orders
        on
            allocations.scenario_id = production_orders.scenario_id
            and allocations.order_id = production_orders.order_id
    left join data_horizons
        on allocations.scenario_id = data_horizons.scenario_id
    where
        production_orders.cancelled_at <= allocations.released_at
        or (
            allocations.returned_at is null
            and (allocations.returned_quantity != 0 or production_orders.cancelled_at <= data_horizons.horizon_at)
        )
        or (
            allocations.returned_at is not null
            and (
                allocations.returned_at is distinct from production_orders.cancelled_at
                or allocations.returned_quantity != allocations.reserved_quantity
            )
        )

)

select * from final
