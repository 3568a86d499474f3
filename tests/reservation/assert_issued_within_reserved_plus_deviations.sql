-- DOMAIN.md §3: the plant issues to an order the lots its ERP reserved for it; anything else it issues is a
-- recorded deviation. So what an order took of a lot without a deviation reason is at most what the reservation
-- issued it from that lot at its start, to the thousandth the data is recorded in.
--
-- The simulated plant's ERP (generators/erp.py) and this model apply the same policy to the same events, but the
-- plant applies them as its simulation reaches them (line by line within a minute, in floating point), so a few
-- goods issues in ten thousand differ. A row is a scenario where more than 1 in 1,000 of its (order, lot) goods
-- issues exceed the reservation: a plant that does not follow its ERP.
with

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

reservation_changes as (

    select * from {{ ref('int_reservation_changes_applied') }}

),

issued_without_deviation as (

    select
        scenario_id,
        order_id,
        material_id,
        lot_id,
        sum(quantity) as issued_quantity
    from material_consumptions
    where deviation_reason is null
    group by scenario_id, order_id, material_id, lot_id

),

issued_from_reservation as (

    select
        scenario_id,
        order_id,
        material_id,
        lot_id,
        -sum(reserved_change_quantity) as reserved_issued_quantity
    from reservation_changes
    where change_kind = 'issued'
    group by scenario_id, order_id, material_id, lot_id

),

compared as (

    select
        issued_without_deviation.scenario_id,
        issued_without_deviation.issued_quantity
        > coalesce(issued_from_reservation.reserved_issued_quantity, 0) + 0.001 as is_beyond_reservation
    from issued_without_deviation
    left join issued_from_reservation
        on
            issued_without_deviation.scenario_id = issued_from_reservation.scenario_id
            and issued_without_deviation.order_id = issued_from_reservation.order_id
            and issued_without_deviation.material_id = issued_from_reservation.material_id
            and issued_without_deviation.lot_id = issued_from_reservation.lot_id

)

select
    scenario_id,
    count(*) as goods_issue_count,
    count(*) filter (where is_beyond_reservation) as beyond_reservation_count
from compared
group by scenario_id
having count(*) filter (where is_beyond_reservation) > 0.001 * count(*)
