{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='stock_allocation_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['stock_allocation_key'], 'unique': True},
            {'columns': ['scenario_id', 'order_sequence_number']},
            {'columns': ['scenario_id', 'order_id']},
            {'columns': ['scenario_id', 'lot_id', 'order_sequence_number']},
            {'columns': ['scenario_id', 'lot_id', 'returned_at']},
            {'columns': ['scenario_id', 'returned_at']},
            {'columns': ['scenario_id', 'scenario_load_id']},
        ],
    )
}}

{#-
    Stock reservation, DOMAIN.md §3: which lots are reserved for which production order, what is short, and what
    cancelled orders gave back. The allocation itself is the PL/pgSQL function of macros/reservation (exact by
    construction); this model decides what it is given: the releases and cancellations not yet processed and the
    stock each lot still has.

    Events are releases and cancellations in one time sequence per scenario, keyed (event_at, kind, priority,
    due_date, order_id) with kind 0 for a cancellation and 1 for a release: at the same instant a cancellation
    comes first, so a replacement released when its original is cancelled can use the stock given back.

    An incremental run reads what is new: every read of the orders, lots and earlier allocations is bounded by the
    scenario's watermark (the last event processed), so that it can follow an index range or probe. On the raw
    tables, the indexes on orders (scenario_id, released_at), (scenario_id, created_at) and (scenario_id,
    cancelled_at) and on lots (scenario_id, received_at) and (scenario_id, material_id, expires_at) make it so.
    The reads bounded per scenario are planned on their own (`limit all offset 0`, which PostgreSQL never merges
    into the outer query), where the bounds are parameters, and every range has both its ends (`between x and
    'infinity'`): the planner then estimates a narrow range and reads it from the index, whatever the statistics of
    freshly loaded tables say. Two reads follow the history: an
    index count of the orders released before the watermark and the cancellations up to it, the exact checks
    that no release and no cancellation arrived late.
-#}

with

-- The imports are used more than once; `not materialized` lets PostgreSQL read only the columns and rows each use
-- needs instead of copying the whole staging tables first.
material_requirements as not materialized (

    select * from {{ ref('int_material_requirements_exploded') }}

),

production_orders as not materialized (

    select * from {{ ref('stg_erp__production_orders') }}

),

stock_lots as not materialized (

    select * from {{ ref('stg_erp__stock_lots') }}

),

recipe_lines as not materialized (

    select * from {{ ref('stg_reference__recipe_lines') }}

),

products as not materialized (

    select * from {{ ref('stg_reference__products') }}

),

scenarios as (

    select * from {{ ref('stg_reference__scenarios') }}

),

-- Each row is labelled with its scenario's current load: a scenario replaced since is computed again from scratch
-- (macros/incremental/delete_replaced_scenario_rows.sql, run before this).
scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

-- What earlier runs allocated (nothing on a full refresh): the watermark, the orders done, the stock left, and
-- the rows of orders whose cancellation is processed now.
allocated_before as not materialized (

    {% if is_incremental() -%}
        select
            scenario_id,
            order_id,
            material_id,
            lot_id,
            allocation_kind,
            released_at,
            priority,
            due_date,
            planned_start_at,
            order_sequence_number,
            requirement_quantity,
            reserved_quantity,
            short_quantity,
            lot_remaining_quantity,
            returned_quantity,
            returned_at,
            unit
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as order_id,
            cast(null as text) as material_id,
            cast(null as text) as lot_id,
            cast(null as text) as allocation_kind,
            cast(null as timestamp) as released_at,
            cast(null as integer) as priority,
            cast(null as date) as due_date,
            cast(null as timestamp) as planned_start_at,
            cast(null as bigint) as order_sequence_number,
            cast(null as numeric) as requirement_quantity,
            cast(null as numeric) as reserved_quantity,
            cast(null as numeric) as short_quantity,
            cast(null as numeric) as lot_remaining_quantity,
            cast(null as numeric) as returned_quantity,
            cast(null as timestamp) as returned_at,
            cast(null as text) as unit
        where false
    {%- endif %}

),

-- The last release and the last cancellation processed per scenario (one index probe each); the later of the two
-- in the event sequence is the watermark. The last order's sequence number is how many orders were allocated.
last_events as (

    select
        scenarios.scenario_id,
        last_order.released_at,
        last_order.priority,
        last_order.due_date,
        last_order.order_id,
        coalesce(last_order.order_sequence_number, 0) as allocated_orders,
        last_return.returned_at,
        last_return.priority as returned_priority,
        last_return.due_date as returned_due_date,
        last_return.order_id as returned_order_id
    from scenarios
    left join lateral (
        select
            allocated_before.released_at,
            allocated_before.priority,
            allocated_before.due_date,
            allocated_before.order_id,
            allocated_before.order_sequence_number
        from allocated_before
        where allocated_before.scenario_id = scenarios.scenario_id
        order by allocated_before.order_sequence_number desc
        limit 1
    ) as last_order on true
    left join lateral (
        select
            allocated_before.returned_at,
            allocated_before.priority,
            allocated_before.due_date,
            allocated_before.order_id
        from allocated_before
        where
            allocated_before.scenario_id = scenarios.scenario_id
            and allocated_before.returned_at between '-infinity' and 'infinity'
        order by
            allocated_before.returned_at desc,
            allocated_before.priority desc,
            allocated_before.due_date desc,
            allocated_before.order_id desc
        limit 1
    ) as last_return on true

),

watermarks as (

    select
        scenario_id,
        allocated_orders,
        case when is_return then returned_at else released_at end as watermark_at,
        case when is_return then 0 else 1 end as watermark_rank,
        case when is_return then returned_priority else priority end as watermark_priority,
        case when is_return then returned_due_date else due_date end as watermark_due_date,
        case when is_return then returned_order_id else order_id end as watermark_order_id
    from (
        select
            *,
            coalesce(
                (returned_at, 0, returned_priority, returned_due_date, returned_order_id)
                > (released_at, 1, priority, due_date, order_id),
                false
            ) as is_return
        from last_events
    ) as compared

),

-- The latest event loaded per scenario, the data horizon. Loads come in whole days of created_at / received_at,
-- so every lot received and every order released or cancelled up to the horizon is loaded: an event after it
-- waits for the data to reach it, when the stock on hand at that instant is known. The horizon of the run that
-- set the watermark was at least the watermark, so only the events since are read.
data_horizons as (

    select
        watermarks.*,
        greatest(
            (
                select max(production_orders.created_at)
                from production_orders
                where
                    production_orders.scenario_id = watermarks.scenario_id
                    and production_orders.created_at between coalesce(watermarks.watermark_at, '-infinity')
                    and 'infinity'
            ),
            (
                select max(stock_lots.received_at)
                from stock_lots
                where
                    stock_lots.scenario_id = watermarks.scenario_id
                    and stock_lots.received_at between coalesce(watermarks.watermark_at, '-infinity')
                    and 'infinity'
            )
        ) as horizon_at
    from watermarks

),

-- Requirements of the releases after the watermark in the event sequence, up to the data horizon. An order
-- cancelled at or before its release reserves nothing (its cancellation comes first); an order cancelled after
-- it carries its cancellation when that is within the horizon too.
pending_requirements as (

    select requirements.*
    from data_horizons
    cross join lateral (
        select
            material_requirements.scenario_id,
            material_requirements.order_id,
            material_requirements.material_id,
            material_requirements.released_at,
            material_requirements.priority,
            material_requirements.due_date,
            material_requirements.planned_start_at,
            material_requirements.requirement_quantity,
            material_requirements.unit,
            case
                when material_requirements.cancelled_at <= data_horizons.horizon_at
                    then material_requirements.cancelled_at
            end as cancelled_at
        from material_requirements
        where
            material_requirements.scenario_id = data_horizons.scenario_id
            and material_requirements.released_at >= coalesce(data_horizons.watermark_at, '-infinity')
            and material_requirements.released_at <= data_horizons.horizon_at
            and (
                material_requirements.cancelled_at is null
                or material_requirements.cancelled_at > material_requirements.released_at
            )
            and (
                data_horizons.watermark_at is null
                or (
                    material_requirements.released_at,
                    1,
                    material_requirements.priority,
                    material_requirements.due_date,
                    material_requirements.order_id
                ) > (
                    data_horizons.watermark_at,
                    data_horizons.watermark_rank,
                    data_horizons.watermark_priority,
                    data_horizons.watermark_due_date,
                    data_horizons.watermark_order_id
                )
            )
        limit all offset 0  -- noqa: AM09
    ) as requirements

),

-- Sequence numbers of the pending orders, following the ones already allocated (a dense rank: the rows of one
-- order share it).
sequenced_requirements as (

    select
        pending_requirements.*,
        data_horizons.allocated_orders + dense_rank() over (
            partition by pending_requirements.scenario_id
            order by
                pending_requirements.released_at,
                pending_requirements.priority,
                pending_requirements.due_date,
                pending_requirements.order_id
        ) as order_sequence_number
    from pending_requirements
    inner join data_horizons
        on pending_requirements.scenario_id = data_horizons.scenario_id

),

-- Cancellations after the watermark, up to the horizon, of orders allocated by earlier runs (those of orders
-- released in this run come with their requirements): from the cancelled_at index.
pending_cancellations as (

    select cancellations.*
    from data_horizons
    cross join lateral (
        select
            production_orders.scenario_id,
            production_orders.order_id,
            production_orders.cancelled_at
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.cancelled_at between data_horizons.watermark_at and data_horizons.horizon_at
            and production_orders.cancelled_at > production_orders.released_at
            and (
                production_orders.cancelled_at,
                0,
                production_orders.priority,
                production_orders.due_date,
                production_orders.order_id
            ) > (
                data_horizons.watermark_at,
                data_horizons.watermark_rank,
                data_horizons.watermark_priority,
                data_horizons.watermark_due_date,
                data_horizons.watermark_order_id
            )
        limit all offset 0  -- noqa: AM09
    ) as cancellations

),

-- The rows of those orders, given back now: every reservation returns whole at the cancellation.
returned_allocations as (

    select
        allocated_before.*,
        pending_cancellations.cancelled_at
    from pending_cancellations
    inner join allocated_before
        on
            pending_cancellations.scenario_id = allocated_before.scenario_id
            and pending_cancellations.order_id = allocated_before.order_id
    -- Given back once: a restated cancellation time of an order already given back needs a full refresh.
    where allocated_before.returned_at is null

),

-- Orders up to the watermark in the event sequence: as many as were allocated, unless some arrived late. Those
-- released before the watermark instant are counted on the released_at index alone, less those cancelled at or
-- before their release (they reserve nothing; read from the cancelled_at index), those released at it one by one.
orders_up_to_watermark as (

    select
        data_horizons.scenario_id,
        data_horizons.allocated_orders,
        data_horizons.watermark_at,
        data_horizons.watermark_rank,
        data_horizons.watermark_priority,
        data_horizons.watermark_due_date,
        data_horizons.watermark_order_id,
        coalesce(orders_at_watermark.orders, 0)
        + coalesce(orders_before_watermark.orders, 0)
        - coalesce(orders_cancelled_first.orders, 0) as released_orders
    from data_horizons
    left join lateral (
        select count(*) as orders
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.released_at = data_horizons.watermark_at
            and production_orders.product_id in (select recipe_lines.product_id from recipe_lines)
            and (
                production_orders.cancelled_at is null
                or production_orders.cancelled_at > production_orders.released_at
            )
            and (1, production_orders.priority, production_orders.due_date, production_orders.order_id) <= (
                data_horizons.watermark_rank,
                data_horizons.watermark_priority,
                data_horizons.watermark_due_date,
                data_horizons.watermark_order_id
            )
        limit all offset 0  -- noqa: AM09
    ) as orders_at_watermark on true
    -- Orders of products without a bill of materials (none in the seeds) are counted apart, only when there is one.
    left join lateral (
        select
            count(*)
            - case
                when exists (
                        select 1
                        from products
                        where products.product_id not in (select recipe_lines.product_id from recipe_lines)
                    )
                    then (
                        select count(*)
                        from production_orders as orders_without_bill
                        where
                            orders_without_bill.scenario_id = data_horizons.scenario_id
                            and orders_without_bill.released_at < data_horizons.watermark_at
                            and orders_without_bill.product_id not in (
                                select recipe_lines.product_id from recipe_lines
                            )
                    )
                else 0
            end as orders
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.released_at >= '-infinity'
            and production_orders.released_at < data_horizons.watermark_at
        limit all offset 0  -- noqa: AM09
    ) as orders_before_watermark on true
    left join lateral (
        select count(*) as orders
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.cancelled_at between '-infinity' and data_horizons.watermark_at
            and production_orders.cancelled_at <= production_orders.released_at
            and production_orders.released_at < data_horizons.watermark_at
            and production_orders.product_id in (select recipe_lines.product_id from recipe_lines)
        limit all offset 0  -- noqa: AM09
    ) as orders_cancelled_first on true
    where data_horizons.watermark_at is not null

),

-- Orders up to the watermark that are not here: they arrived late and cannot be reserved incrementally (they
-- would need stock that later orders already hold). Looked for only when the counts differ.
missing_orders as (

    select
        missing.scenario_id,
        missing.order_id,
        missing.released_at,
        orders_up_to_watermark.watermark_at
    from orders_up_to_watermark
    cross join
        lateral (
            select
                production_orders.scenario_id,
                production_orders.order_id,
                production_orders.released_at
            from production_orders
            where
                production_orders.scenario_id = orders_up_to_watermark.scenario_id
                and production_orders.released_at <= orders_up_to_watermark.watermark_at
                and (
                    production_orders.released_at,
                    1,
                    production_orders.priority,
                    production_orders.due_date,
                    production_orders.order_id
                ) <= (
                    orders_up_to_watermark.watermark_at,
                    orders_up_to_watermark.watermark_rank,
                    orders_up_to_watermark.watermark_priority,
                    orders_up_to_watermark.watermark_due_date,
                    orders_up_to_watermark.watermark_order_id
                )
                and production_orders.product_id in (select recipe_lines.product_id from recipe_lines)
                and (
                    production_orders.cancelled_at is null
                    or production_orders.cancelled_at > production_orders.released_at
                )
                and not exists (
                    select 1
                    from allocated_before
                    where
                        allocated_before.scenario_id = production_orders.scenario_id
                        and allocated_before.order_id = production_orders.order_id
                )
            limit all offset 0  -- noqa: AM09
        ) as missing
    where orders_up_to_watermark.released_orders <> orders_up_to_watermark.allocated_orders

),

-- Cancellations up to the watermark of orders reserved before them that the allocation does not show returned
-- at that instant: they arrived late (the stock they give back should have served the releases since).
late_cancellations as (

    select
        late.scenario_id,
        late.order_id,
        late.cancelled_at,
        data_horizons.watermark_at
    from data_horizons
    cross join lateral (
        select
            production_orders.scenario_id,
            production_orders.order_id,
            production_orders.cancelled_at
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.cancelled_at between '-infinity' and data_horizons.watermark_at
            and production_orders.cancelled_at > production_orders.released_at
            and (
                production_orders.cancelled_at,
                0,
                production_orders.priority,
                production_orders.due_date,
                production_orders.order_id
            ) <= (
                data_horizons.watermark_at,
                data_horizons.watermark_rank,
                data_horizons.watermark_priority,
                data_horizons.watermark_due_date,
                data_horizons.watermark_order_id
            )
            and exists (
                select 1
                from allocated_before
                where
                    allocated_before.scenario_id = production_orders.scenario_id
                    and allocated_before.order_id = production_orders.order_id
                    and allocated_before.returned_at is distinct from production_orders.cancelled_at
            )
        limit all offset 0  -- noqa: AM09
    ) as late

),

-- The function refuses the run when there is any: the late events by name or, when the counts differ without
-- one (allocated orders gone from the loaded data or moved after the watermark), the scenario alone.
late_events as (

    select
        scenario_id,
        order_id,
        'released' as event_kind,
        released_at as event_at,
        watermark_at
    from missing_orders

    union all

    select
        scenario_id,
        null as order_id,
        null as event_kind,
        null as event_at,
        watermark_at
    from orders_up_to_watermark
    where
        released_orders <> allocated_orders
        and scenario_id not in (select missing_orders.scenario_id from missing_orders)

    union all

    select
        scenario_id,
        order_id,
        'cancelled' as event_kind,
        cancelled_at as event_at,
        watermark_at
    from late_cancellations

),

-- Bounds of what the pending requirements can use, to hand the function only the lots that matter.
pending_bounds as (

    select
        scenario_id,
        material_id,
        max(released_at) as max_released_at,
        min(planned_start_at) as min_planned_start_at
    from pending_requirements
    group by scenario_id, material_id

),

candidate_lots as (

    select lots.*
    from pending_bounds
    cross join lateral (
        select
            stock_lots.scenario_id,
            stock_lots.lot_id,
            stock_lots.material_id,
            stock_lots.received_at,
            stock_lots.expires_at,
            stock_lots.is_qc_released,
            stock_lots.quantity
        from stock_lots
        where
            stock_lots.scenario_id = pending_bounds.scenario_id
            and stock_lots.material_id = pending_bounds.material_id
            and stock_lots.expires_at between pending_bounds.min_planned_start_at and 'infinity'
            and stock_lots.received_at <= pending_bounds.max_released_at
        limit all offset 0  -- noqa: AM09
    ) as lots

),

-- Remaining quantity of a lot after the events processed before: the balance its last reservation left (one
-- probe of the (scenario_id, lot_id, order_sequence_number) index), plus what cancellations gave back after that
-- reservation (a return at the same instant came before it and is in that balance; a few rows of the
-- (scenario_id, lot_id, returned_at) index), or its whole quantity when nothing was reserved from it yet.
lots_on_hand as (

    select
        candidate_lots.scenario_id,
        candidate_lots.lot_id,
        candidate_lots.material_id,
        candidate_lots.received_at,
        candidate_lots.expires_at,
        candidate_lots.is_qc_released,
        coalesce(last_reservation.lot_remaining_quantity, candidate_lots.quantity)
        + coalesce(returned_since.returned_quantity, 0) as remaining_quantity
    from candidate_lots
    left join lateral (
        select
            allocated_before.lot_remaining_quantity,
            allocated_before.released_at
        from allocated_before
        where
            allocated_before.scenario_id = candidate_lots.scenario_id
            and allocated_before.lot_id = candidate_lots.lot_id
        order by allocated_before.order_sequence_number desc
        limit 1
    ) as last_reservation on true
    left join lateral (
        select sum(allocated_before.returned_quantity) as returned_quantity
        from allocated_before
        where
            allocated_before.scenario_id = candidate_lots.scenario_id
            and allocated_before.lot_id = candidate_lots.lot_id
            and allocated_before.returned_at between last_reservation.released_at and 'infinity'
            and allocated_before.returned_at > last_reservation.released_at
    ) as returned_since on true

),

-- What orders allocated before give back now, to the lots the pending releases may use.
returns_to_lots as (

    select
        scenario_id,
        lot_id,
        reserved_quantity as returned_quantity,
        cancelled_at as returned_at
    from returned_allocations
    where lot_id is not null

),

allocations as (

    select allocation.*
    from {{ reservation_function_schema() }}.allocate_stock_reservations(
            (select coalesce(jsonb_agg(pending_requirements), '[]') from pending_requirements),
            (select coalesce(jsonb_agg(lots_on_hand), '[]') from lots_on_hand),
            (select coalesce(jsonb_agg(returns_to_lots), '[]') from returns_to_lots),
            (select coalesce(jsonb_agg(late_events), '[]') from late_events),
            '{{ this.identifier }}'
        ) as allocation

),

new_allocations as (

    select
        allocations.scenario_id,
        allocations.order_id,
        allocations.material_id,
        allocations.lot_id,
        case when allocations.lot_id is null then 'shortage' else 'reservation' end as allocation_kind,
        sequenced_requirements.released_at,
        sequenced_requirements.priority,
        sequenced_requirements.due_date,
        sequenced_requirements.planned_start_at,
        sequenced_requirements.order_sequence_number,
        sequenced_requirements.requirement_quantity,
        allocations.reserved_quantity,
        allocations.short_quantity,
        allocations.lot_remaining_quantity,
        case
            when sequenced_requirements.cancelled_at is not null then allocations.reserved_quantity else 0
        end as returned_quantity,
        sequenced_requirements.cancelled_at as returned_at,
        sequenced_requirements.unit
    from allocations
    -- Every allocation has its requirement; a left join keeps the function call even when nothing is pending
    -- (an inner join may skip it on an empty side), so that it can refuse late events.
    left join sequenced_requirements
        on
            allocations.scenario_id = sequenced_requirements.scenario_id
            and allocations.order_id = sequenced_requirements.order_id
            and allocations.material_id = sequenced_requirements.material_id

),

-- Rows of earlier runs whose order is cancelled now: the same rows, with what they give back and when (they
-- replace the stored ones, same key).
returned_before as (

    select
        scenario_id,
        order_id,
        material_id,
        lot_id,
        allocation_kind,
        released_at,
        priority,
        due_date,
        planned_start_at,
        order_sequence_number,
        requirement_quantity,
        reserved_quantity,
        short_quantity,
        lot_remaining_quantity,
        reserved_quantity as returned_quantity,
        cancelled_at as returned_at,
        unit
    from returned_allocations

),

changed_allocations as (

    select * from new_allocations

    union all

    select * from returned_before

),

final as (

    select
        {{ surrogate_key([
            'changed_allocations.scenario_id',
            'changed_allocations.order_id',
            'changed_allocations.material_id',
            "coalesce(changed_allocations.lot_id, '__short__')",
        ]) }} as stock_allocation_key,
        changed_allocations.scenario_id,
        changed_allocations.order_id,
        changed_allocations.material_id,
        changed_allocations.lot_id,
        changed_allocations.allocation_kind,
        changed_allocations.released_at,
        changed_allocations.priority,
        changed_allocations.due_date,
        changed_allocations.planned_start_at,
        changed_allocations.order_sequence_number,
        changed_allocations.requirement_quantity,
        changed_allocations.reserved_quantity,
        changed_allocations.short_quantity,
        changed_allocations.lot_remaining_quantity,
        changed_allocations.returned_quantity,
        changed_allocations.returned_at,
        changed_allocations.unit,
        scenario_loads.scenario_load_id
    from changed_allocations
    left join scenario_loads
        on changed_allocations.scenario_id = scenario_loads.scenario_id

)

select * from final
