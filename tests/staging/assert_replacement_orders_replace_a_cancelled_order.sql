{#-
    DOMAIN.md §3: the planner reschedules by cancelling an order and releasing a replacement that names it. A
    replacement must name an order of its own scenario that is cancelled, no later than the replacement's release,
    and be the only replacement of it (a cancelled order counts once, through its replacement, in OTIF).
    A row returned is a replacement that breaks this.
-#}

with

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

replacements as (

    select
        replacement.scenario_id,
        replacement.order_id,
        replacement.replaces_order_id,
        replacement.released_at,
        replaced.status as replaced_status,
        replaced.cancelled_at as replaced_cancelled_at,
        count(*) over (
            partition by replacement.scenario_id, replacement.replaces_order_id
        ) as replacements_of_the_order
    from production_orders as replacement
    left join production_orders as replaced
        on
            replacement.scenario_id = replaced.scenario_id
            and replacement.replaces_order_id = replaced.order_id
    where replacement.replaces_order_id is not null

),

final as (

    select * from replacements
    where
        replaced_status is distinct from 'cancelled'
        or replacements_of_the_order > 1
        or replaced_cancelled_at > released_at

)

select * from final
