-- DOMAIN.md §3: the plant issues to an order the lots its ERP reserved for it; anything else it issues is a
-- recorded deviation. So what an order took of a lot without a deviation reason is at most what the reservation
-- held for it on that lot at its start (change_kind 'issued': the hold the start hands over), to the thousandth
-- the data is recorded in.
--
-- The simulated plant's ERP (generators/erp.py) applies the policy to the events as its simulation reaches them,
-- and this model to the events the plant wrote: the two ledgers agree at every instant, to the thousandth, or
-- FEFO compliance (from the plant's labels) and the shortage report (from this model) tell different stories.
-- A row is an (order, lot) goods issue beyond the reservation.
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
        issued_without_deviation.order_id,
        issued_without_deviation.material_id,
        issued_without_deviation.lot_id,
        issued_without_deviation.issued_quantity,
        coalesce(issued_from_reservation.reserved_issued_quantity, 0) as reserved_issued_quantity
    from issued_without_deviation
    left join issued_from_reservation
        on
            issued_without_deviation.scenario_id = issued_from_reservation.scenario_id
            and issued_without_deviation.order_id = issued_from_reservation.order_id
            and issued_without_deviation.material_id = issued_from_reservation.material_id
            and issued_without_deviation.lot_id = issued_from_reservation.lot_id

)

select * from compared
where issued_quantity > reserved_issued_quantity + 0.001
