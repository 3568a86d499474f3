-- The balance each reservation records (lot_remaining_quantity) is the lot's quantity less what is outstanding
-- right after it: every reservation from the lot up to it, less what cancellations gave back before it (at the
-- same instant a cancellation comes first). Returns the reservations whose recorded balance is off.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

lot_events as (

    select
        scenario_id,
        lot_id,
        order_id,
        priority,
        due_date,
        released_at as event_at,
        1 as event_rank,
        reserved_quantity as outstanding_change,
        lot_remaining_quantity
    from allocations
    where lot_id is not null

    union all

    select
        scenario_id,
        lot_id,
        order_id,
        priority,
        due_date,
        returned_at as event_at,
        0 as event_rank,
        -returned_quantity as outstanding_change,
        null as lot_remaining_quantity
    from allocations
    where lot_id is not null and returned_at is not null

),

outstanding as (

    select
        *,
        sum(outstanding_change) over (
            partition by scenario_id, lot_id
            order by event_at, event_rank, priority, due_date, order_id
            rows between unbounded preceding and current row
        ) as outstanding_quantity
    from lot_events

),

final as (

    select
        outstanding.scenario_id,
        outstanding.lot_id,
        outstanding.order_id,
        stock_lots.quantity,
        outstanding.outstanding_quantity,
        outstanding.lot_remaining_quantity
    from outstanding
    inner join stock_lots
        on
            outstanding.scenario_id = stock_lots.scenario_id
            and outstanding.lot_id = stock_lots.lot_id
    where
        outstanding.event_rank = 1
        and outstanding.lot_remaining_quantity is distinct from stock_lots.quantity - outstanding.outstanding_quantity

)

select * from final
