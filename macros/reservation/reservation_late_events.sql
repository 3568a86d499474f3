{#-
    Events at or before a scenario's watermark that the reservation's stored changes do not reflect: they arrived
    (were loaded, or their order restated) after the run that processed that instant, so applying them now would
    change stock or requirements that later events already used. One CTE, late_events, with the event and the
    watermark; the reservation function refuses the run when it has any row for the scenario.

    An order restated with the same instants is not late: its release, start or cancellation is in the stored
    changes at that instant (a start or a cancellation leaves no change when the other ended the requirement
    first).
-#}
{% macro reservation_late_events(watermarks, changes_before) -%}

late_events as (

    -- An order's event is one per material: named once.
    select distinct
        {{ watermarks }}.scenario_id,
        late.event_kind,
        late.event_source_id,
        late.event_at,
        {{ watermarks }}.watermark_at
    from {{ watermarks }}
    cross join lateral (
        select
            events.event_kind,
            events.event_source_id,
            events.event_at,
            events.order_id,
            events.material_id
        from {{ ref('int_reservation_events_sequenced') }} as events
        where
            events.scenario_id = {{ watermarks }}.scenario_id
            and events.loaded_at between {{ watermarks }}.watermark_processed_at and 'infinity'
            and events.loaded_at > {{ watermarks }}.watermark_processed_at
            and events.event_at < {{ watermarks }}.watermark_at
        limit all offset 0  -- noqa: AM09
    ) as late
    -- One look-up per candidate (the index on scenario, order, material) rather than a hash of every change of the
    -- scenario: the candidates are the few rows loaded since the last run, the changes grow with the history.
    left join lateral (
        select 1 as is_reflected
        from {{ changes_before }}
        where
            {{ changes_before }}.scenario_id = {{ watermarks }}.scenario_id
            and {{ changes_before }}.order_id = late.order_id
            and {{ changes_before }}.material_id = late.material_id
            and (
                ({{ changes_before }}.change_kind = 'released' and late.event_kind = 'release'
                    and {{ changes_before }}.event_at = late.event_at)
                or ({{ changes_before }}.change_kind = 'started' and late.event_kind = 'start'
                    and {{ changes_before }}.event_at = late.event_at)
                or ({{ changes_before }}.change_kind = 'cancelled' and late.event_kind = 'cancellation'
                    and {{ changes_before }}.event_at = late.event_at)
                or ({{ changes_before }}.change_kind = 'cancelled' and late.event_kind = 'start'
                    and {{ changes_before }}.event_at <= late.event_at)
                or ({{ changes_before }}.change_kind = 'started' and late.event_kind = 'cancellation'
                    and {{ changes_before }}.event_at < late.event_at)
            )
        limit 1
    ) as reflected on true
    where reflected.is_reflected is null

)

{%- endmacro %}
