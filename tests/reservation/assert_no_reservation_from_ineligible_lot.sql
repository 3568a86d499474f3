-- Invariant (DOMAIN.md §3): no reservation from a lot that fails the rule: same material, received by the
-- release, not expired at the planned start (expires_at ≥ planned_start_at), QC released.
-- Returns the offending reservations.

with

allocations as (

    select * from {{ ref('int_stock_reservations_allocated') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

final as (

    select
        allocations.stock_allocation_key,
        allocations.scenario_id,
        allocations.order_id,
        allocations.lot_id,
        allocations.material_id,
        stock_lots.material_id as lot_material_id,
        allocations.released_at,
        stock_lots.received_at,
        allocations.planned_start_at,
        stock_lots.expires_at,
        stock_lots.qc_status
    from allocations
    left join stock_lots
        on
            allocations.scenario_id = stock_lots.scenario_id
            and allocations.lot_id = stock_lots.lot_id
    where
        allocations.lot_id is not null
        and (
            stock_lots.lot_id is null
            or stock_lots.material_id != allocations.material_id
            or stock_lots.received_at > allocations.released_at
            or stock_lots.expires_at < allocations.planned_start_at
            or not stock_lots.is_qc_released
        )

)

select * from final
