-- Invariant (DOMAIN.md §3): reserved per lot ≤ lot quantity, at every event. A lot's outstanding reservations
-- rise at each release that reserves from it and fall at each cancellation that gives it back; in the event
-- sequence (instant, cancellation before release, priority, due date, order) they stay within [0, quantity].
-- Returns the lot events where they do not.

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
        reserved_quantity as outstanding_change
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
        -returned_quantity as outstanding_change
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
        outstanding.event_at,
        outstanding.event_rank,
        outstanding.outstanding_quantity,
        stock_lots.quantity
    from outstanding
    left join stock_lots
        on
            outstanding.scenario_id = stock_lots.scenario_id
            and outstanding.lot_id = stock_lots.lot_id
    where
        stock_lots.lot_id is null
        or outstanding.outstanding_quantity > stock_lots.quantity
        or outstanding.outstanding_quantity < 0

)

select * from final
