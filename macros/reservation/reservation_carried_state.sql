{#-
    The state the reservation events before each scenario's watermark left, as three CTEs the reservation model
    hands its function: carried_lots (QC-released lots received and not expired by the watermark, with their
    physical balance), carried_requirements (requirements released and neither started nor cancelled by then,
    with what is still open) and carried_reservations (what those requirements hold of each lot).

    `watermarks` has one row per scenario with watermark_at (null: nothing processed yet, nothing carried);
    `changes_before` is the reservation model's own rows. Every read is bounded by the scenario and the watermark
    and planned on its own (`limit all offset 0`), so that it follows an index range or probe. A lot emptied
    before the watermark (int_stock_lots_emptied) is carried with nothing left, its issues not added up again.
-#}
{% macro reservation_carried_state(watermarks, changes_before) -%}

carried_lots as (

    select
        {{ watermarks }}.scenario_id,
        lots.lot_id,
        lots.material_id,
        lots.received_at,
        lots.expires_at,
        case
            when emptied.emptied_at < {{ watermarks }}.watermark_at then 0
            else lots.quantity - coalesce(issued.quantity, 0) - coalesce(moved.quantity, 0)
        end as physical_quantity
    from {{ watermarks }}
    cross join lateral (
        select
            stock_lots.lot_id,
            stock_lots.material_id,
            stock_lots.received_at,
            stock_lots.expires_at,
            stock_lots.quantity
        from {{ ref('stg_erp__stock_lots') }} as stock_lots
        where
            stock_lots.scenario_id = {{ watermarks }}.scenario_id
            and stock_lots.is_qc_released
            and stock_lots.expires_at between {{ watermarks }}.watermark_at and 'infinity'
            and stock_lots.received_at < {{ watermarks }}.watermark_at
        limit all offset 0  -- noqa: AM09
    ) as lots
    left join lateral (
        select stock_lots_emptied.emptied_at
        from {{ ref('int_stock_lots_emptied') }} as stock_lots_emptied
        where
            stock_lots_emptied.scenario_id = {{ watermarks }}.scenario_id
            and stock_lots_emptied.lot_id = lots.lot_id
    ) as emptied on true
    -- Only a lot not emptied by the watermark adds up its issues and movements (a one-time filter of each probe).
    left join lateral (
        select sum(material_consumptions.quantity) as quantity
        from {{ ref('stg_erp__material_consumptions') }} as material_consumptions
        where
            material_consumptions.scenario_id = {{ watermarks }}.scenario_id
            and material_consumptions.lot_id = lots.lot_id
            and material_consumptions.consumed_at < {{ watermarks }}.watermark_at
            and (emptied.emptied_at is null or emptied.emptied_at >= {{ watermarks }}.watermark_at)
    ) as issued on true
    left join lateral (
        select sum(stock_movements.quantity) as quantity
        from {{ ref('stg_erp__stock_movements') }} as stock_movements
        where
            stock_movements.scenario_id = {{ watermarks }}.scenario_id
            and stock_movements.lot_id = lots.lot_id
            and stock_movements.moved_at < {{ watermarks }}.watermark_at
            and (emptied.emptied_at is null or emptied.emptied_at >= {{ watermarks }}.watermark_at)
    ) as moved on true

),

-- Orders released before the watermark and neither started nor cancelled by then (from the index of the orders'
-- start: those started since, and those never started), then their release events.
carried_requirements as (

    select
        {{ watermarks }}.scenario_id,
        releases.order_id,
        releases.material_id,
        releases.released_at,
        releases.priority,
        releases.due_date,
        releases.planned_start_at,
        last_change.requirement_open_quantity as open_quantity
    from {{ watermarks }}
    cross join lateral (
        select production_orders.order_id
        from {{ ref('stg_erp__production_orders') }} as production_orders
        where
            production_orders.scenario_id = {{ watermarks }}.scenario_id
            and production_orders.actual_start_at between {{ watermarks }}.watermark_at and 'infinity'
            and production_orders.released_at < {{ watermarks }}.watermark_at
            and (
                production_orders.cancelled_at >= {{ watermarks }}.watermark_at
                or production_orders.cancelled_at is null
            )
        union all
        select production_orders.order_id
        from {{ ref('stg_erp__production_orders') }} as production_orders
        where
            production_orders.scenario_id = {{ watermarks }}.scenario_id
            and production_orders.actual_start_at is null
            and production_orders.released_at < {{ watermarks }}.watermark_at
            and (
                production_orders.cancelled_at >= {{ watermarks }}.watermark_at
                or production_orders.cancelled_at is null
            )
    ) as active_orders
    cross join lateral (
        select
            events.order_id,
            events.material_id,
            events.released_at,
            events.priority,
            events.due_date,
            events.planned_start_at
        from {{ ref('int_reservation_events_sequenced') }} as events
        where
            events.scenario_id = {{ watermarks }}.scenario_id
            and events.event_kind = 'release'
            and events.order_id = active_orders.order_id
        limit all offset 0  -- noqa: AM09
    ) as releases
    cross join lateral (
        select {{ changes_before }}.requirement_open_quantity
        from {{ changes_before }}
        where
            {{ changes_before }}.scenario_id = {{ watermarks }}.scenario_id
            and {{ changes_before }}.order_id = releases.order_id
            and {{ changes_before }}.material_id = releases.material_id
        order by {{ changes_before }}.change_number desc
        limit 1
    ) as last_change

),

carried_reservations as (

    select
        carried_requirements.scenario_id,
        carried_requirements.order_id,
        carried_requirements.material_id,
        held.lot_id,
        held.open_quantity
    from carried_requirements
    cross join lateral (
        select
            {{ changes_before }}.lot_id,
            sum({{ changes_before }}.reserved_change_quantity) as open_quantity
        from {{ changes_before }}
        where
            {{ changes_before }}.scenario_id = carried_requirements.scenario_id
            and {{ changes_before }}.order_id = carried_requirements.order_id
            and {{ changes_before }}.material_id = carried_requirements.material_id
            and {{ changes_before }}.lot_id is not null
        group by {{ changes_before }}.lot_id
        having sum({{ changes_before }}.reserved_change_quantity) > 0
    ) as held

)

{%- endmacro %}
