{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='reserved_requirement_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['reserved_requirement_key'], 'unique': True},
            {'columns': ['scenario_id', 'scenario_load_id']},
            {'columns': ['scenario_id', 'last_change_number']},
            {'columns': ['scenario_id', 'order_id', 'material_id']},
        ],
    )
}}

{#-
    Each requirement of a released order (scenario, order, material) as the reservation left it: what was short
    at its release, when and by which lot it was covered since, what it held, issued, gave back or lost, and what
    was still open at its start (the shortage that counts, DOMAIN.md §3) or is open now. Summarised from the
    changes of int_reservation_changes_applied, in their sequence.

    Incremental, exactly: a requirement's row depends only on its own changes, which are final once written, and
    on its order's row, which the ERP writes once. So a run summarises again only the requirements with a change
    numbered after the scenario's watermark (the last change this table summarised), and those whose order is
    new here (its changes may have come before its row); every other row stays as it is.
-#}

with

scenarios as (

    select * from {{ ref('stg_reference__scenarios') }}

),

-- Each row is labelled with its scenario's current load: a scenario replaced since is summarised again from
-- scratch (macros/incremental/delete_replaced_scenario_rows.sql, run before this). Materialized: the view's row
-- count is unknown to the planner, which would otherwise compute it again for every requirement.
scenario_loads as materialized (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

-- Not materialized, here and below: each reference is planned on its own, the changes' indexes included.
applied_changes as not materialized (

    select * from {{ ref('int_reservation_changes_applied') }}

),

material_requirements as not materialized (

    select * from {{ ref('int_material_requirements_exploded') }}

),

-- What this table holds already: its own rows on an incremental run, nothing on a full one.
summarised_before as not materialized (

    {% if is_incremental() -%}
        select
            scenario_id,
            order_id,
            material_id,
            last_change_number
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as order_id,
            cast(null as text) as material_id,
            cast(null as bigint) as last_change_number
        where false
    {%- endif %}

),

-- Per scenario, the last change summarised (one index probe).
watermarks as (

    select
        scenarios.scenario_id,
        coalesce(last_summarised.last_change_number, 0) as last_change_number
    from scenarios
    left join lateral (
        select summarised_before.last_change_number
        from summarised_before
        where summarised_before.scenario_id = scenarios.scenario_id
        order by summarised_before.last_change_number desc
        limit 1
    ) as last_summarised on true

),

-- On a full refresh every requirement is new here (below): the changes need not be searched. Each scenario's
-- changes after its watermark are one range of the index (scenario_id, change_number).
changed_requirements as (

    select
        changes_since.scenario_id,
        changes_since.order_id,
        changes_since.material_id
    from watermarks
    cross join
        lateral (
            select
                applied_changes.scenario_id,
                applied_changes.order_id,
                applied_changes.material_id
            from applied_changes
            where
                applied_changes.scenario_id = watermarks.scenario_id
                and applied_changes.change_number > watermarks.last_change_number
        ) as changes_since
    where {{ 'true' if is_incremental() else 'false' }}

),

requirements_new_here as (

    select
        material_requirements.scenario_id,
        material_requirements.order_id,
        material_requirements.material_id
    from material_requirements
    where not exists (
            select
            from summarised_before
            where
                summarised_before.scenario_id = material_requirements.scenario_id
                and summarised_before.order_id = material_requirements.order_id
                and summarised_before.material_id = material_requirements.material_id
        )

),

-- An incremental run reads it; a full refresh reads every change (reservation_changes).
requirements_to_summarise as (  -- noqa: ST03

    select * from changed_requirements
    union
    select * from requirements_new_here

),

-- The changes of the requirements to summarise: on an incremental run, each requirement's changes are one range
-- of the index (scenario_id, order_id, material_id, change_number); a full refresh reads every change in one scan.
reservation_changes as (

    select
        applied_changes.*,
        applied_changes.change_kind = 'reserved' and applied_changes.requirement_open_quantity = 0 as is_covering
    {% if is_incremental() -%}
        from requirements_to_summarise
        inner join lateral (
            select applied_changes.*
            from applied_changes
            where
                applied_changes.scenario_id = requirements_to_summarise.scenario_id
                and applied_changes.order_id = requirements_to_summarise.order_id
                and applied_changes.material_id = requirements_to_summarise.material_id
        ) as applied_changes on true
    {%- else -%}
        from applied_changes
    {%- endif %}

),

requirement_changes as (

    select
        scenario_id,
        order_id,
        material_id,
        min(event_at) filter (where change_kind = 'released') as released_at,
        min(requirement_open_quantity) filter (where change_kind = 'released') as short_at_release_quantity,
        min(event_at) filter (where change_kind = 'started') as started_at,
        min(requirement_open_quantity) filter (where change_kind = 'started') as short_at_start_quantity,
        min(event_at) filter (where change_kind = 'cancelled') as cancelled_at,
        -- What is open after the last change: at the start or cancellation, or now for an active requirement.
        (array_agg(requirement_open_quantity order by change_number desc))[1] as open_quantity,
        -- The last reservation that left nothing open; it stands if nothing was open again since.
        (array_agg(event_at order by change_number desc) filter (where is_covering))[1] as last_covered_at,
        (array_agg(lot_id order by change_number desc) filter (where is_covering))[1] as last_covered_by_lot_id,
        coalesce(sum(reserved_change_quantity) filter (where change_kind = 'reserved'), 0) as reserved_quantity,
        coalesce(-sum(reserved_change_quantity) filter (where change_kind = 'issued'), 0) as issued_quantity,
        coalesce(-sum(reserved_change_quantity) filter (where change_kind = 'returned'), 0) as returned_quantity,
        coalesce(-sum(reserved_change_quantity) filter (where change_kind = 'expired'), 0) as expired_quantity,
        coalesce(-sum(reserved_change_quantity) filter (where change_kind = 'displaced'), 0) as displaced_quantity,
        coalesce(sum(reserved_change_quantity), 0) as held_quantity,
        count(*) filter (where change_kind = 'reserved' and event_kind <> 'release') as later_reservation_count,
        max(change_number) as last_change_number
    from reservation_changes
    group by scenario_id, order_id, material_id

),

final as (

    select
        {{ surrogate_key([
            'requirement_changes.scenario_id',
            'requirement_changes.order_id',
            'requirement_changes.material_id',
        ]) }} as reserved_requirement_key,
        requirement_changes.scenario_id,
        scenario_loads.scenario_load_id,
        requirement_changes.order_id,
        requirement_changes.material_id,
        material_requirements.product_id,
        material_requirements.line_id,
        requirement_changes.released_at,
        material_requirements.planned_start_at,
        material_requirements.due_date,
        material_requirements.priority,
        material_requirements.requirement_quantity,
        material_requirements.unit,
        requirement_changes.short_at_release_quantity,
        case when requirement_changes.open_quantity = 0 then requirement_changes.last_covered_at end as covered_at,
        case when requirement_changes.open_quantity = 0 then requirement_changes.last_covered_by_lot_id end
            as covered_by_lot_id,
        requirement_changes.started_at,
        requirement_changes.short_at_start_quantity,
        requirement_changes.cancelled_at,
        case
            when requirement_changes.started_at is not null then 'started'
            when requirement_changes.cancelled_at is not null then 'cancelled'
            else 'open'
        end as requirement_status,
        requirement_changes.open_quantity,
        requirement_changes.reserved_quantity,
        requirement_changes.issued_quantity,
        requirement_changes.returned_quantity,
        requirement_changes.expired_quantity,
        requirement_changes.displaced_quantity,
        requirement_changes.held_quantity,
        requirement_changes.short_at_release_quantity > 0 as is_short_at_release,
        coalesce(requirement_changes.short_at_start_quantity > 0, false) as is_short_at_start,
        requirement_changes.last_change_number
    from requirement_changes
    inner join material_requirements
        on
            requirement_changes.scenario_id = material_requirements.scenario_id
            and requirement_changes.order_id = material_requirements.order_id
            and requirement_changes.material_id = material_requirements.material_id
    left join scenario_loads
        on requirement_changes.scenario_id = scenario_loads.scenario_id

)

select * from final
