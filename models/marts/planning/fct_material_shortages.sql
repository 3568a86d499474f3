{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'planned_start_at']},
        ],
    )
}}

{#-
    The shortage report ("faltas de reserva", DOMAIN.md §3): one row per scenario, order and material whose
    requirement was short at the order's release or at its start, or is open now. It says what was short at
    release, when and by which lot it was covered since, what was still short at start (the shortage that hurt
    production) or is open now, and which scheduled receipt would cover the shortage before the planned start.

    The projection reads the scheduled receipts (purchase orders, the milk collection plan) of the material known
    by the planned start or the data horizon, whichever is earlier, and due after the release and by the planned
    start; it is the shortage's own, not netted against other orders' (a planner's first look, as in an ERP's
    missing-parts list).
-#}

with

requirements as (

    select * from {{ ref('int_material_requirements_reserved') }}

),

scheduled_receipts as (

    select * from {{ ref('int_scheduled_receipts_unioned') }}

),

data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

shortages as (

    select
        requirements.*,
        -- What the projection must cover: the open quantity of a requirement still open, else what was short at
        -- release.
        case
            when requirements.requirement_status = 'open' then requirements.open_quantity
            else requirements.short_at_release_quantity
        end as uncovered_quantity,
        data_spans.data_horizon_at as horizon_at
    from requirements
    inner join data_spans
        on requirements.scenario_id = data_spans.scenario_id
    where
        requirements.is_short_at_release
        or requirements.is_short_at_start
        or (requirements.requirement_status = 'open' and requirements.open_quantity > 0)

),

-- The scheduled receipts that could cover each shortage, with the quantity due up to each of them.
covering_receipts as (

    select
        shortages.scenario_id,
        shortages.order_id,
        shortages.material_id,
        scheduled_receipts.scheduled_receipt_id,
        scheduled_receipts.due_at,
        sum(scheduled_receipts.quantity) over (
            partition by shortages.scenario_id, shortages.order_id, shortages.material_id
            order by scheduled_receipts.due_at, scheduled_receipts.scheduled_receipt_id
        ) as cumulative_quantity,
        sum(scheduled_receipts.quantity) over (
            partition by shortages.scenario_id, shortages.order_id, shortages.material_id
        ) as projected_receipt_quantity,
        shortages.uncovered_quantity
    from shortages
    inner join scheduled_receipts
        on
            shortages.scenario_id = scheduled_receipts.scenario_id
            and shortages.material_id = scheduled_receipts.material_id
            and least(shortages.planned_start_at, shortages.horizon_at) > scheduled_receipts.scheduled_at
            and shortages.released_at < scheduled_receipts.due_at
            and shortages.planned_start_at >= scheduled_receipts.due_at

),

-- The first receipt by which those due would cover the shortage.
projections as (

    select distinct on (scenario_id, order_id, material_id)
        scenario_id,
        order_id,
        material_id,
        projected_receipt_quantity,
        case when cumulative_quantity >= uncovered_quantity then scheduled_receipt_id end
            as projected_covering_receipt_id,
        case when cumulative_quantity >= uncovered_quantity then due_at end as projected_covered_at
    from covering_receipts
    order by
        scenario_id asc,
        order_id asc,
        material_id asc,
        cumulative_quantity >= uncovered_quantity desc,
        due_at asc,
        scheduled_receipt_id asc

),

final as (

    select
        {{ surrogate_key(['shortages.scenario_id', 'shortages.order_id', 'shortages.material_id']) }}
            as material_shortage_key,
        shortages.scenario_id,
        shortages.order_id,
        shortages.product_id,
        products.product_name,
        shortages.line_id,
        shortages.material_id,
        raw_materials.material_name,
        shortages.released_at,
        shortages.planned_start_at,
        shortages.due_date,
        shortages.priority,
        production_orders.planned_kg,
        shortages.requirement_quantity as required_quantity,
        shortages.unit,
        shortages.short_at_release_quantity,
        shortages.covered_at,
        shortages.covered_by_lot_id,
        shortages.requirement_status,
        shortages.started_at,
        shortages.short_at_start_quantity,
        shortages.is_short_at_start,
        case when shortages.requirement_status = 'open' then shortages.open_quantity end as open_quantity,
        coalesce(projections.projected_receipt_quantity, 0) as projected_receipt_quantity,
        projections.projected_covering_receipt_id,
        projections.projected_covered_at,
        case
            when shortages.covered_at is not null then 'covered'
            when projections.projected_covering_receipt_id is not null then 'covered_by_scheduled_receipts'
            else 'uncovered'
        end as coverage_status,
        cast(shortages.planned_start_at as date) - cast(shortages.released_at as date) as days_until_start
    from shortages
    left join projections
        on
            shortages.scenario_id = projections.scenario_id
            and shortages.order_id = projections.order_id
            and shortages.material_id = projections.material_id
    inner join production_orders
        on
            shortages.scenario_id = production_orders.scenario_id
            and shortages.order_id = production_orders.order_id
    inner join products
        on shortages.product_id = products.product_id
    inner join raw_materials
        on shortages.material_id = raw_materials.material_id

)

select * from final
