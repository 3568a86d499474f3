{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='stock_allocation_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['stock_allocation_key'], 'unique': True},
            {'columns': ['scenario_id', 'released_at']},
            {'columns': ['scenario_id', 'order_id']},
            {'columns': ['scenario_id', 'lot_id', 'lot_remaining_quantity']},
        ],
    )
}}

{#-
    Stock reservation, DOMAIN.md §3: which lots are reserved for which production order, and what is short.
    The allocation itself is the PL/pgSQL function of macros/reservation (exact by construction); this model
    decides what it is given: the requirements not yet allocated and the stock each lot still has.
-#}

with

-- The imports are used more than once; `not materialized` lets PostgreSQL read only the columns and rows each use
-- needs instead of copying the whole staging tables first (most of an incremental run's time otherwise).
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

-- What earlier runs allocated (nothing on a full refresh): the watermark, the orders done, the stock left.
allocated_before as not materialized (

    {% if is_incremental() -%}
        select
            scenario_id,
            order_id,
            lot_id,
            released_at,
            lot_remaining_quantity
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as order_id,
            cast(null as text) as lot_id,
            cast(null as timestamp) as released_at,
            cast(null as numeric) as lot_remaining_quantity
        where false
    {%- endif %}

),

loaded_events as (

    select
        scenario_id,
        created_at as event_at
    from production_orders

    union all

    select
        scenario_id,
        received_at as event_at
    from stock_lots

),

-- The latest event loaded per scenario. Loads come in whole days of created_at / received_at, so every lot
-- received and every order released up to the horizon is loaded: an order released after it waits for the
-- data to reach its release, when the stock on hand at that instant is known.
data_horizons as (

    select
        scenario_id,
        max(event_at) as horizon_at
    from loaded_events
    group by scenario_id

),

-- The last release already allocated per scenario (one probe of the (scenario_id, released_at) index):
-- this run allocates only what was released after it.
watermarks as (

    select
        data_horizons.scenario_id,
        data_horizons.horizon_at,
        last_allocated.watermark_released_at
    from data_horizons
    left join lateral (
        select max(allocated_before.released_at) as watermark_released_at
        from allocated_before
        where allocated_before.scenario_id = data_horizons.scenario_id
    ) as last_allocated on true

),

-- Orders released at or before the watermark that are not here: they arrived late and cannot be reserved
-- incrementally (they would need stock that later orders already hold). Checked per order, one probe of the
-- (scenario_id, order_id) index each; the function refuses the run when there is any. An order whose product
-- has no bill of materials needs nothing and never has rows here.
late_orders as (

    select
        production_orders.scenario_id,
        production_orders.order_id,
        production_orders.released_at,
        watermarks.watermark_released_at
    from production_orders
    inner join watermarks
        on
            production_orders.scenario_id = watermarks.scenario_id
            and production_orders.released_at <= watermarks.watermark_released_at
    where
        not exists (
            select 1
            from allocated_before
            where
                allocated_before.scenario_id = production_orders.scenario_id
                and allocated_before.order_id = production_orders.order_id
        )
        and production_orders.product_id in (
            select recipe_lines.product_id
            from recipe_lines
        )

),

-- Requirements of the orders released after the watermark, up to the data horizon. The first condition is
-- implied by the join's but is a constant, so it filters the orders before the bill of materials is exploded.
pending_requirements as (

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
    inner join watermarks
        on
            material_requirements.scenario_id = watermarks.scenario_id
            and material_requirements.released_at > coalesce(watermarks.watermark_released_at, '-infinity')
            and material_requirements.released_at <= watermarks.horizon_at
    where material_requirements.released_at > (
            select min(coalesce(lowest_watermark.watermark_released_at, '-infinity'))
            from watermarks as lowest_watermark
        )

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

    select
        stock_lots.scenario_id,
        stock_lots.lot_id,
        stock_lots.material_id,
        stock_lots.received_at,
        stock_lots.expiry_date,
        stock_lots.is_qc_released,
        stock_lots.quantity
    from stock_lots
    inner join pending_bounds
        on
            stock_lots.scenario_id = pending_bounds.scenario_id
            and stock_lots.material_id = pending_bounds.material_id
            and stock_lots.received_at <= pending_bounds.max_released_at
            and stock_lots.expiry_date >= pending_bounds.min_planned_start_date

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
        pending_requirements.released_at,
        pending_requirements.priority,
        pending_requirements.due_date,
        pending_requirements.planned_start_at,
        pending_requirements.requirement_quantity,
        allocations.reserved_quantity,
        allocations.short_quantity,
        allocations.lot_remaining_quantity,
        pending_requirements.unit
    from allocations
    inner join pending_requirements
        on
            allocations.scenario_id = pending_requirements.scenario_id
            and allocations.order_id = pending_requirements.order_id
            and allocations.material_id = pending_requirements.material_id

)

select * from final
