-- DOMAIN.md §3: what orders hold of a lot never exceeds what is physically there, so that on every day of every
-- scenario reserved <= on hand, lot by lot. A row is a lot-day holding more than it has.
select
    scenario_id,
    lot_id,
    stock_date,
    on_hand_quantity,
    reserved_quantity
from {{ ref('int_stock_lot_days_balanced') }}
where reserved_quantity > on_hand_quantity
