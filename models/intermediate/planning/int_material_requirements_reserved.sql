{#-
    Each requirement of a released order (scenario, order, material) as the reservation left it: what was short
    at its release, when and by which lot it was covered since, what it held, issued, gave back or lost, and what
    was still open at its start (the shortage that counts, DOMAIN.md §3) or is open now. Summarised from the
    changes of int_reservation_changes_applied, in their sequence.
-#}

with

reservation_changes as (

    select
        *,
        change_kind = 'reserved' and requirement_open_quantity = 0 as is_covering
    from {{ ref('int_reservation_changes_applied') }}

),

material_requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

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
        count(*) filter (where change_kind = 'reserved' and event_kind <> 'release') as later_reservation_count
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
        coalesce(requirement_changes.short_at_start_quantity > 0, false) as is_short_at_start
    from requirement_changes
    inner join material_requirements
        on
            requirement_changes.scenario_id = material_requirements.scenario_id
            and requirement_changes.order_id = material_requirements.order_id
            and requirement_changes.material_id = material_requirements.material_id

)

select * from final
