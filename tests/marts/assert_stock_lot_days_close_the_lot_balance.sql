-- Mass balance of every QC-released lot (DOMAIN.md §2): quantity received = consumed + sold + discarded +
-- expired (written off without a movement) + on hand at its last day, and nothing consumed from it is lost
-- (the lot's days hold all its consumption).
-- Returns the lots that do not close.

with

lot_days as (

    select * from {{ ref('int_stock_lot_days_balanced') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

lot_totals as (

    select
        scenario_id,
        lot_id,
        sum(received_quantity) as received_quantity,
        sum(consumed_quantity) as consumed_quantity,
        sum(sold_quantity) as sold_quantity,
        sum(discarded_quantity) as discarded_quantity,
        sum(expired_quantity) as expired_quantity,
        (array_agg(on_hand_quantity order by stock_date desc))[1] as last_on_hand_quantity
    from lot_days
    group by scenario_id, lot_id

),

lot_consumptions as (

    select
        scenario_id,
        lot_id,
        sum(quantity) as consumed_quantity
    from material_consumptions
    group by scenario_id, lot_id

),

final as (

    select
        stock_lots.scenario_id,
        stock_lots.lot_id,
        stock_lots.quantity,
        lot_totals.received_quantity,
        lot_totals.consumed_quantity,
        lot_totals.sold_quantity,
        lot_totals.discarded_quantity,
        lot_totals.expired_quantity,
        lot_totals.last_on_hand_quantity,
        lot_consumptions.consumed_quantity as issued_quantity
    from stock_lots
    left join lot_totals
        on
            stock_lots.scenario_id = lot_totals.scenario_id
            and stock_lots.lot_id = lot_totals.lot_id
    left join lot_consumptions
        on
            stock_lots.scenario_id = lot_consumptions.scenario_id
            and stock_lots.lot_id = lot_consumptions.lot_id
    where
        stock_lots.is_qc_released
        and (
            lot_totals.received_quantity is distinct from stock_lots.quantity
            or lot_totals.consumed_quantity is distinct from coalesce(lot_consumptions.consumed_quantity, 0)
            or lot_totals.received_quantity
            != lot_totals.consumed_quantity + lot_totals.sold_quantity + lot_totals.discarded_quantity
            + lot_totals.expired_quantity + lot_totals.last_on_hand_quantity
        )

)

select * from final
