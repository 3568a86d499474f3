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
            {'columns': ['scenario_id', 'lot_id', 'lot_remaining_quantity']},
            {'columns': ['scenario_id', 'scenario_load_id']},
        ],
    )
}}

{#-
    Stock reservation, DOMAIN.md §3: which lots are reserved for which production order, and what is short.
    The allocation itself is the PL/pgSQL function of macros/reservation (exact by construction); this model
    decides what it is given: the requirements not yet allocated and the stock each lot still has.

    An incremental run reads only what is new: every read of the orders, lots and earlier allocations is bounded
    by the scenario's watermark (the last order allocated), so it follows an index range or probe. The reads
    bounded per scenario are planned on their own (`offset 0`), where the bounds are known values: the planner
    then estimates a narrow range and reads it from the index instead of scanning the history.
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

    select * from {{ ref('stg_loader__scenario_loads') }}

),

-- What earlier runs allocated (nothing on a full refresh): the watermark, the orders done, the stock left.
allocated_before as not materialized (

    {% if is_incremental() -%}
        select
            scenario_id,
            order_id,
            lot_id,
            released_at,
            priority,
            due_date,
            order_sequence_number,
            lot_remaining_quantity
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as order_id,
            cast(null as text) as lot_id,
            cast(null as timestamp) as released_at,
            cast(null as integer) as priority,
            cast(null as date) as due_date,
            cast(null as bigint) as order_sequence_number,
            cast(null as numeric) as lot_remaining_quantity
        where false
    {%- endif %}

),

-- The last order allocated per scenario (one probe of the (scenario_id, order_sequence_number) index): its place
-- in the order sequence is the watermark, and its sequence number how many orders were allocated up to it.
watermarks as (

    select
        scenarios.scenario_id,
        last_order.released_at as watermark_released_at,
        last_order.priority as watermark_priority,
        last_order.due_date as watermark_due_date,
        last_order.order_id as watermark_order_id,
        coalesce(last_order.order_sequence_number, 0) as allocated_orders
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

),

-- The latest event loaded per scenario, the data horizon. Loads come in whole days of created_at / received_at,
-- so every lot received and every order released up to the horizon is loaded: an order released after it waits
-- for the data to reach its release, when the stock on hand at that instant is known. The horizon of the run
-- that set the watermark was at least the watermark, so only the events since are read.
data_horizons as (

    select
        watermarks.*,
        greatest(
            (
                select max(production_orders.created_at)
                from production_orders
                where
                    production_orders.scenario_id = watermarks.scenario_id
                    and production_orders.created_at >= coalesce(watermarks.watermark_released_at, '-infinity')
            ),
            (
                select max(stock_lots.received_at)
                from stock_lots
                where
                    stock_lots.scenario_id = watermarks.scenario_id
                    and stock_lots.received_at >= coalesce(watermarks.watermark_released_at, '-infinity')
            )
        ) as horizon_at
    from watermarks

),

-- Requirements of the orders after the watermark in the sequence (released_at, priority, due_date, order_id),
-- released up to the data horizon.
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
            material_requirements.unit
        from material_requirements
        where
            material_requirements.scenario_id = data_horizons.scenario_id
            and material_requirements.released_at >= coalesce(data_horizons.watermark_released_at, '-infinity')
            and material_requirements.released_at <= data_horizons.horizon_at
            and (
                data_horizons.watermark_released_at is null
                or (
                    material_requirements.released_at,
                    material_requirements.priority,
                    material_requirements.due_date,
                    material_requirements.order_id
                ) > (
                    data_horizons.watermark_released_at,
                    data_horizons.watermark_priority,
                    data_horizons.watermark_due_date,
                    data_horizons.watermark_order_id
                )
            )
        offset 0
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

-- Orders up to the watermark in the sequence: as many as were allocated, unless some arrived late. Those released
-- before the watermark instant are counted on the released_at index alone, those released at it one by one.
orders_up_to_watermark as (

    select
        data_horizons.scenario_id,
        data_horizons.allocated_orders,
        data_horizons.watermark_released_at,
        data_horizons.watermark_priority,
        data_horizons.watermark_due_date,
        data_horizons.watermark_order_id,
        coalesce(orders_at_watermark.orders, 0) + coalesce(orders_before_watermark.orders, 0) as released_orders
    from data_horizons
    left join lateral (
        select count(*) as orders
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.released_at = data_horizons.watermark_released_at
            and production_orders.product_id in (select recipe_lines.product_id from recipe_lines)
            and (production_orders.priority, production_orders.due_date, production_orders.order_id) <= (
                data_horizons.watermark_priority,
                data_horizons.watermark_due_date,
                data_horizons.watermark_order_id
            )
        offset 0
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
                            and orders_without_bill.released_at < data_horizons.watermark_released_at
                            and orders_without_bill.product_id not in (
                                select recipe_lines.product_id from recipe_lines
                            )
                    )
                else 0
            end as orders
        from production_orders
        where
            production_orders.scenario_id = data_horizons.scenario_id
            and production_orders.released_at < data_horizons.watermark_released_at
        offset 0
    ) as orders_before_watermark on true
    where data_horizons.watermark_released_at is not null

),

-- Orders up to the watermark that are not here: they arrived late and cannot be reserved incrementally (they
-- would need stock that later orders already hold). Looked for only when the counts differ.
missing_orders as (

    select
        missing.scenario_id,
        missing.order_id,
        missing.released_at,
        orders_up_to_watermark.watermark_released_at
    from orders_up_to_watermark
    cross join lateral (
        select
            production_orders.scenario_id,
            production_orders.order_id,
            production_orders.released_at
        from production_orders
        where
            production_orders.scenario_id = orders_up_to_watermark.scenario_id
            and production_orders.released_at <= orders_up_to_watermark.watermark_released_at
            and (
                production_orders.released_at,
                production_orders.priority,
                production_orders.due_date,
                production_orders.order_id
            ) <= (
                orders_up_to_watermark.watermark_released_at,
                orders_up_to_watermark.watermark_priority,
                orders_up_to_watermark.watermark_due_date,
                orders_up_to_watermark.watermark_order_id
            )
            and production_orders.product_id in (select recipe_lines.product_id from recipe_lines)
            and not exists (
                select 1
                from allocated_before
                where
                    allocated_before.scenario_id = production_orders.scenario_id
                    and allocated_before.order_id = production_orders.order_id
            )
        offset 0
    ) as missing
    where orders_up_to_watermark.released_orders <> orders_up_to_watermark.allocated_orders

),

-- The function refuses the run when there is any: the late orders by name or, when the counts differ without
-- one (allocated orders gone from the loaded data or moved after the watermark), the scenario alone.
late_orders as (

    select
        scenario_id,
        order_id,
        released_at,
        watermark_released_at
    from missing_orders

    union all

    select
        scenario_id,
        null as order_id,
        null as released_at,
        watermark_released_at
    from orders_up_to_watermark
    where
        released_orders <> allocated_orders
        and scenario_id not in (select missing_orders.scenario_id from missing_orders)

),

-- Bounds of what the pending requirements can use, to hand the function only the lots that matter.
pending_bounds as (

    select
        scenario_id,
        material_id,
        max(released_at) as max_released_at,
        cast(min(planned_start_at) as date) as min_planned_start_date
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
            stock_lots.expiry_date,
            stock_lots.is_qc_released,
            stock_lots.quantity
        from stock_lots
        where
            stock_lots.scenario_id = pending_bounds.scenario_id
            and stock_lots.material_id = pending_bounds.material_id
            and stock_lots.expiry_date >= pending_bounds.min_planned_start_date
            and stock_lots.received_at <= pending_bounds.max_released_at
        offset 0
    ) as lots

),

-- Remaining quantity of a lot: what its last reservation left (reservations only ever lower it, so that is
-- the smallest, one probe of the (scenario_id, lot_id, lot_remaining_quantity) index), or all of it.
lots_on_hand as (

    select
        candidate_lots.scenario_id,
        candidate_lots.lot_id,
        candidate_lots.material_id,
        candidate_lots.received_at,
        candidate_lots.expiry_date,
        candidate_lots.is_qc_released,
        coalesce(last_reservation.lot_remaining_quantity, candidate_lots.quantity) as remaining_quantity
    from candidate_lots
    left join lateral (
        select allocated_before.lot_remaining_quantity
        from allocated_before
        where
            allocated_before.scenario_id = candidate_lots.scenario_id
            and allocated_before.lot_id = candidate_lots.lot_id
        order by allocated_before.lot_remaining_quantity
        limit 1
    ) as last_reservation on true

),

allocations as (

    select allocation.*
    from {{ reservation_function_schema() }}.allocate_stock_reservations(
            (select coalesce(jsonb_agg(pending_requirements), '[]') from pending_requirements),
            (select coalesce(jsonb_agg(lots_on_hand), '[]') from lots_on_hand),
            (select coalesce(jsonb_agg(late_orders), '[]') from late_orders),
            '{{ this.identifier }}'
        ) as allocation

),

final as (

    select
        {{ surrogate_key([
            'allocations.scenario_id',
            'allocations.order_id',
            'allocations.material_id',
            "coalesce(allocations.lot_id, '__short__')",
        ]) }} as stock_allocation_key,
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
        sequenced_requirements.unit,
        scenario_loads.scenario_load_id
    from allocations
    -- Every allocation has its requirement; a left join keeps the function call even when nothing is pending
    -- (an inner join may skip it on an empty side), so that it can refuse late orders.
    left join sequenced_requirements
        on
            allocations.scenario_id = sequenced_requirements.scenario_id
            and allocations.order_id = sequenced_requirements.order_id
            and allocations.material_id = sequenced_requirements.material_id
    left join scenario_loads
        on allocations.scenario_id = scenario_loads.scenario_id

)

select * from final
