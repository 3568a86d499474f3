{{
    config(
        materialized='view',
    )
}}

{#-
    The events of the stock reservation (DOMAIN.md §3), defined once: the reservation model applies them in this
    sequence, and the tests read them here. One row per event and, for the events of an order, per material of
    its bill of materials.

    loaded_at is when the event's row was loaded (an order's latest restatement): an event older than what the
    reservation already processed but loaded after it arrived late.

    The sequence within a scenario is (event_at, event_rank, released_at, priority, due_date, order_id,
    event_kind = 'issue', event_source_id, material_id): at one instant a receipt comes first, then a
    cancellation, a release, a start with the order's goods issue right after it, the other stock that leaves
    lots (spot sales, discards) and last the expiries, since a lot is usable up to the instant it expires. Events
    of orders at one instant follow the order sequence; the others their own id.

    A view, so that an incremental run reads only the events after its watermark: each branch is filtered on its
    own time column, which the raw tables index.
-#}

with

material_requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

-- Requirements of released orders; an order cancelled at or before its release reserves nothing. Read by three
-- branches, and not materialized so that each branch's time filter reaches the raw tables' indexes (as for the
-- lots below).
reserved_requirements as not materialized (

    select
        scenario_id,
        order_id,
        material_id,
        released_at,
        priority,
        due_date,
        planned_start_at,
        cancelled_at,
        actual_start_at,
        requirement_quantity,
        loaded_at
    from material_requirements
    where
        released_at is not null
        and (cancelled_at is null or cancelled_at > released_at)

),

-- Stock lots enter available stock only QC released: a lot refused at reception never does.
released_lots as not materialized (

    select * from stock_lots
    where is_qc_released

),

receipts as (

    select
        scenario_id,
        received_at as event_at,
        0 as event_rank,
        'receipt' as event_kind,
        lot_id as event_source_id,
        cast(null as timestamp) as released_at,
        cast(null as integer) as priority,
        cast(null as date) as due_date,
        cast(null as text) as order_id,
        material_id,
        lot_id,
        quantity,
        cast(null as timestamp) as planned_start_at,
        received_at,
        expires_at,
        loaded_at
    from released_lots

),

cancellations as (

    select
        scenario_id,
        cancelled_at as event_at,
        1 as event_rank,
        'cancellation' as event_kind,
        order_id as event_source_id,
        released_at,
        priority,
        due_date,
        order_id,
        material_id,
        cast(null as text) as lot_id,
        cast(null as numeric) as quantity,
        planned_start_at,
        cast(null as timestamp) as received_at,
        cast(null as timestamp) as expires_at,
        loaded_at
    from reserved_requirements
    where cancelled_at is not null

),

releases as (

    select
        scenario_id,
        released_at as event_at,
        2 as event_rank,
        'release' as event_kind,
        order_id as event_source_id,
        released_at,
        priority,
        due_date,
        order_id,
        material_id,
        cast(null as text) as lot_id,
        requirement_quantity as quantity,
        planned_start_at,
        cast(null as timestamp) as received_at,
        cast(null as timestamp) as expires_at,
        loaded_at
    from reserved_requirements

),

starts as (

    select
        scenario_id,
        actual_start_at as event_at,
        3 as event_rank,
        'start' as event_kind,
        order_id as event_source_id,
        released_at,
        priority,
        due_date,
        order_id,
        material_id,
        cast(null as text) as lot_id,
        cast(null as numeric) as quantity,
        planned_start_at,
        cast(null as timestamp) as received_at,
        cast(null as timestamp) as expires_at,
        loaded_at
    from reserved_requirements
    where actual_start_at is not null

),

-- An order's goods issue follows its start at once, before any other event: the stock its reservations held is
-- taken by it, not freed for others in between. The order of each issue is one look-up on its key, so that a day's
-- issues do not hash every order of the history.
issues as (

    select
        material_consumptions.scenario_id,
        material_consumptions.consumed_at as event_at,
        3 as event_rank,
        'issue' as event_kind,
        material_consumptions.consumption_id as event_source_id,
        issuing_orders.released_at,
        issuing_orders.priority,
        issuing_orders.due_date,
        material_consumptions.order_id,
        material_consumptions.material_id,
        material_consumptions.lot_id,
        material_consumptions.quantity,
        cast(null as timestamp) as planned_start_at,
        cast(null as timestamp) as received_at,
        cast(null as timestamp) as expires_at,
        material_consumptions.loaded_at
    from material_consumptions
    cross join lateral (
        select
            production_orders.released_at,
            production_orders.priority,
            production_orders.due_date
        from production_orders
        where
            production_orders.scenario_id = material_consumptions.scenario_id
            and production_orders.order_id = material_consumptions.order_id
        -- The order's key: one row; the limit keeps it a look-up.
        limit 1  -- noqa: AM09
    ) as issuing_orders

),

movements as (

    select
        scenario_id,
        moved_at as event_at,
        4 as event_rank,
        'movement' as event_kind,
        movement_id as event_source_id,
        cast(null as timestamp) as released_at,
        cast(null as integer) as priority,
        cast(null as date) as due_date,
        cast(null as text) as order_id,
        material_id,
        lot_id,
        quantity,
        cast(null as timestamp) as planned_start_at,
        cast(null as timestamp) as received_at,
        cast(null as timestamp) as expires_at,
        loaded_at
    from stock_movements

),

expiries as (

    select
        scenario_id,
        expires_at as event_at,
        5 as event_rank,
        'expiry' as event_kind,
        lot_id as event_source_id,
        cast(null as timestamp) as released_at,
        cast(null as integer) as priority,
        cast(null as date) as due_date,
        cast(null as text) as order_id,
        material_id,
        lot_id,
        cast(null as numeric) as quantity,
        cast(null as timestamp) as planned_start_at,
        received_at,
        expires_at,
        loaded_at
    from released_lots

),

events as (

    select * from receipts
    union all
    select * from cancellations
    union all
    select * from releases
    union all
    select * from starts
    union all
    select * from issues
    union all
    select * from movements
    union all
    select * from expiries

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'event_kind', 'event_source_id', 'material_id']) }}
            as reservation_event_key,
        *
    from events

)

select * from final
