{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='reservation_change_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['reservation_change_key'], 'unique': True},
            {'columns': ['scenario_id', 'change_number']},
            {'columns': ['scenario_id', 'order_id', 'material_id', 'change_number']},
            {'columns': ['scenario_id', 'lot_id', 'event_at']},
            {'columns': ['scenario_id', 'scenario_load_id']},
        ],
    )
}}

{#-
    Stock reservation, DOMAIN.md §3: every change the ERP's events make to what orders hold of each lot, numbered
    in their sequence within the scenario. The events are int_reservation_events_sequenced's; the policy is the
    PL/pgSQL function of macros/reservation, which applies them one at a time to the state the earlier events left.

    An incremental run applies the events from the watermark (the data horizon of the run that wrote the
    scenario's last change) up to the data horizon now, to the state at the watermark, carried here
    (macros/reservation/reservation_carried_state.sql): the lots in stock with their balance, the requirements
    still open and what they hold. An event before the watermark that the changes do not reflect (it arrived late)
    stops the run and is named (macros/reservation/reservation_late_events.sql).
-#}

with

data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

-- Each row is labelled with its scenario's current load: a scenario replaced since is computed again from scratch
-- (macros/incremental/delete_replaced_scenario_rows.sql, run before this).
scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

changes_before as not materialized (

    {% if is_incremental() -%}
        select * from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as bigint) as change_number,
            cast(null as timestamp) as event_at,
            cast(null as text) as event_kind,
            cast(null as text) as order_id,
            cast(null as text) as material_id,
            cast(null as text) as lot_id,
            cast(null as text) as change_kind,
            cast(null as numeric) as reserved_change_quantity,
            cast(null as numeric) as requirement_open_quantity,
            cast(null as timestamp) as horizon_at,
            cast(null as timestamp with time zone) as processed_at
        where false
    {%- endif %}

),

-- Per scenario, the last change written (one index probe): the horizon it was applied up to is the watermark.
watermarks as (

    select
        data_spans.scenario_id,
        last_change.horizon_at as watermark_at,
        last_change.processed_at as watermark_processed_at,
        coalesce(last_change.change_number, 0) as last_change_number,
        data_spans.data_horizon_at as horizon_at
    from data_spans
    left join lateral (
        select
            changes_before.horizon_at,
            changes_before.processed_at,
            changes_before.change_number
        from changes_before
        where changes_before.scenario_id = data_spans.scenario_id
        order by changes_before.change_number desc
        limit 1
    ) as last_change on true

),

{{ reservation_carried_state('watermarks', 'changes_before') }},

{{ reservation_late_events('watermarks', 'changes_before') }},

applied_changes as (

    select
        watermarks.scenario_id,
        watermarks.horizon_at,
        changes.*
    from watermarks
    cross join lateral {{ reservation_function_schema() }}.apply_reservation_events(
        watermarks.scenario_id,
        '{{ ref('int_reservation_events_sequenced') }}',
        coalesce(watermarks.watermark_at, '-infinity'),
        watermarks.horizon_at,
        (
            select coalesce(jsonb_agg(carried_lots), '[]')
            from carried_lots
            where carried_lots.scenario_id = watermarks.scenario_id
        ),
        (
            select coalesce(jsonb_agg(carried_requirements), '[]')
            from carried_requirements
            where carried_requirements.scenario_id = watermarks.scenario_id
        ),
        (
            select coalesce(jsonb_agg(carried_reservations), '[]')
            from carried_reservations
            where carried_reservations.scenario_id = watermarks.scenario_id
        ),
        watermarks.last_change_number + 1,
        (
            select coalesce(jsonb_agg(late_events), '[]')
            from late_events
            where late_events.scenario_id = watermarks.scenario_id
        ),
        '{{ this.identifier }}'
    ) as changes

),

final as (

    select
        {{ surrogate_key(['applied_changes.scenario_id', 'applied_changes.change_number']) }}
            as reservation_change_key,
        applied_changes.scenario_id,
        applied_changes.change_number,
        applied_changes.event_at,
        applied_changes.event_rank,
        applied_changes.event_kind,
        applied_changes.event_source_id,
        applied_changes.order_id,
        applied_changes.material_id,
        applied_changes.lot_id,
        applied_changes.change_kind,
        applied_changes.reserved_change_quantity,
        applied_changes.requirement_open_quantity,
        applied_changes.horizon_at,
        cast(now() as timestamp with time zone) as processed_at,
        scenario_loads.scenario_load_id
    from applied_changes
    left join scenario_loads
        on applied_changes.scenario_id = scenario_loads.scenario_id

)

select * from final
