-- DOMAIN.md §3: from its release until it starts or is cancelled, what a requirement holds plus what it has open
-- is its requirement, after every change. A row is a change after which they do not add up.
with

reservation_changes as (

    select * from {{ ref('int_reservation_changes_applied') }}

),

requirements as (

    select * from {{ ref('int_material_requirements_exploded') }}

),

held_after as (

    select
        scenario_id,
        order_id,
        material_id,
        change_number,
        change_kind,
        requirement_open_quantity,
        sum(reserved_change_quantity) over (
            partition by scenario_id, order_id, material_id
            order by change_number
            rows between unbounded preceding and current row
        ) as held_quantity
    from reservation_changes

)

select
    held_after.*,
    requirements.requirement_quantity
from held_after
inner join requirements
    on
        held_after.scenario_id = requirements.scenario_id
        and held_after.order_id = requirements.order_id
        and held_after.material_id = requirements.material_id
-- The goods issue and the cancellation end the requirement: their rows empty what it holds.
where
    held_after.change_kind in ('released', 'reserved', 'displaced', 'expired')
    and held_after.held_quantity + held_after.requirement_open_quantity <> requirements.requirement_quantity
