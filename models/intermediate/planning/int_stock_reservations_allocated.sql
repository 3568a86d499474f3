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
            {'columns': ['scenario_id', 'lot_id']},
        ],
    )
}}

{#-
    Stock reservation, DOMAIN.md §3: which lots are reserved for which production order, and what is short.
    The allocation itself is the PL/pgSQL function of macros/reservation (exact by construction); this model
    decides what it is given: the requirements not yet allocated and the stock each lot still has.
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

-- What earlier runs allocated (nothing on a full refresh): the watermark and the stock already reserved.
allocated_before as not materialized (

    {% if is_incremental() -%}
        select
            scenario_id,
            order_id,
            lot_id,
            released_at,
            reserved_quantity
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as order_id,
            cast(null as text) as lot_id,
            cast(null as timestamp) as released_at,
            cast(null as numeric) as reserved_quantity
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

-- The last release already allocated per scenario: this run allocates only what was released after it.
watermarks as (

    select
        scenario_id,
        max(released_at) as watermark_released_at
    from allocated_before
    group by scenario_id

),

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
        material_requirements.unit,
        watermarks.watermark_released_at
    from material_requirements
    inner join data_horizons
        on
            material_requirements.scenario_id = data_horizons.scenario_id
            and material_requirements.released_at <= data_horizons.horizon_at
    left join watermarks
        on material_requirements.scenario_id = watermarks.scenario_id
    -- not allocated yet; one released at or before the watermark makes the function raise
    where not exists (
            select 1
            from allocated_before
            where
                allocated_before.scenario_id = material_requirements.scenario_id
                and allocated_before.order_id = material_requirements.order_id
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

reserved_before as (

    select
        scenario_id,
        lot_id,
        sum(reserved_quantity) as reserved_quantity
    from allocated_before
    where (scenario_id, lot_id) in (
            select
                candidate_lots.scenario_id,
                candidate_lots.lot_id
            from candidate_lots
        )
    group by scenario_id, lot_id

),

-- Remaining quantity of a lot = its quantity - everything reserved from it by earlier runs.
lots_on_hand as (

    select
        candidate_lots.scenario_id,
        candidate_lots.lot_id,
        candidate_lots.material_id,
        candidate_lots.received_at,
        candidate_lots.expiry_date,
        candidate_lots.is_qc_released,
        candidate_lots.quantity - coalesce(reserved_before.reserved_quantity, 0) as remaining_quantity
    from candidate_lots
    left join reserved_before
        on
            candidate_lots.scenario_id = reserved_before.scenario_id
            and candidate_lots.lot_id = reserved_before.lot_id

),

allocations as (

    select allocation.*
    from {{ reservation_function_schema() }}.allocate_stock_reservations(
            (select coalesce(jsonb_agg(pending_requirements), '[]') from pending_requirements),
            (select coalesce(jsonb_agg(lots_on_hand), '[]') from lots_on_hand),
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
        pending_requirements.unit
    from allocations
    inner join pending_requirements
        on
            allocations.scenario_id = pending_requirements.scenario_id
            and allocations.order_id = pending_requirements.order_id
            and allocations.material_id = pending_requirements.material_id

)

select * from final
