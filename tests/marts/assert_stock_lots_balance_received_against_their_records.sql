-- Mass balance of every stock lot, of every material and QC status (DOMAIN.md §2: every litre and kilo that
-- enters leaves a record): quantity received = consumed + sold + discarded + on hand, within 0.01 of its unit,
-- and nothing on hand below zero (int_stock_lots_disposed: on hand is what is left of a lot still usable after the
-- scenario's last simulated day; a lot whose life ended inside the data must have recorded everything).
-- Returns the lots that do not close.

with

stock_lots_disposed as (

    select * from {{ ref('int_stock_lots_disposed') }}

),

final as (

    select
        scenario_id,
        lot_id,
        material_id,
        qc_status,
        received_quantity,
        consumed_quantity,
        sold_quantity,
        discarded_quantity,
        on_hand_quantity
    from stock_lots_disposed
    where
        abs(received_quantity - (consumed_quantity + sold_quantity + discarded_quantity + on_hand_quantity)) > 0.01
        or on_hand_quantity < -0.01

)

select * from final
