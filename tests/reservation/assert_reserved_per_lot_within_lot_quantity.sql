-- Invariant (DOMAIN.md §3): reserved per lot ≤ lot quantity. Returns the lots reserved beyond their quantity.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

reserved_per_lot as (

    select
        scenario_id,
        lot_id,
        sum(reserved_quantity) as reserved_quantity
    from allocations
    where lot_id is not null
    group by scenario_id, lot_id

),

final as (

    select
        reserved_per_lot.scenario_id,
        reserved_per_lot.lot_id,
        reserved_per_lot.reserved_quantity,
        stock_lots.quantity
    from reserved_per_lot
    left join stock_lots
        on
            reserved_per_lot.scenario_id = stock_lots.scenario_id
            and reserved_per_lot.lot_id = stock_lots.lot_id
    where stock_lots.lot_id is null or reserved_per_lot.reserved_quantity > stock_lots.quantity

)

select * from final
