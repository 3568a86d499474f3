-- The balance incremental runs start from: a lot's last reservation (its smallest lot_remaining_quantity) leaves
-- exactly its quantity minus everything reserved from it. Returns the lots whose carried balance is off.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

balance_per_lot as (

    select
        scenario_id,
        lot_id,
        sum(reserved_quantity) as reserved_quantity,
        min(lot_remaining_quantity) as carried_balance_quantity
    from allocations
    where lot_id is not null
    group by scenario_id, lot_id

),

final as (

    select
        balance_per_lot.scenario_id,
        balance_per_lot.lot_id,
        stock_lots.quantity,
        balance_per_lot.reserved_quantity,
        balance_per_lot.carried_balance_quantity
    from balance_per_lot
    inner join stock_lots
        on
            balance_per_lot.scenario_id = stock_lots.scenario_id
            and balance_per_lot.lot_id = stock_lots.lot_id
    where balance_per_lot.carried_balance_quantity <> stock_lots.quantity - balance_per_lot.reserved_quantity

)

select * from final
