-- DOMAIN.md §3: a lot is reserved for an order only when it is of the same material, received and QC released,
-- expires at or after the order's planned start, and not expired. A row is a reservation that breaks one.
with

reservation_changes as (

    select * from {{ ref('int_reservation_changes_applied') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

)

select
    reservation_changes.scenario_id,
    reservation_changes.order_id,
    reservation_changes.lot_id,
    reservation_changes.event_at,
    stock_lots.material_id as lot_material_id,
    reservation_changes.material_id,
    stock_lots.is_qc_released,
    stock_lots.received_at,
    stock_lots.expires_at,
    requirements.planned_start_at
from reservation_changes
left join stock_lots
    on
        reservation_changes.scenario_id = stock_lots.scenario_id
        and reservation_changes.lot_id = stock_lots.lot_id
inner join requirements
    on
        reservation_changes.scenario_id = requirements.scenario_id
        and reservation_changes.order_id = requirements.order_id
        and reservation_changes.material_id = requirements.material_id
where
    reservation_changes.change_kind = 'reserved'
    and (
        stock_lots.lot_id is null
        or stock_lots.material_id <> reservation_changes.material_id
        or not stock_lots.is_qc_released
        or stock_lots.received_at > reservation_changes.event_at
        or stock_lots.expires_at < requirements.planned_start_at
        or stock_lots.expires_at < reservation_changes.event_at
        or reservation_changes.event_at < requirements.released_at
    )
