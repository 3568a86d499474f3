{#-
    Stock reservation (DOMAIN.md §3) as one PL/pgSQL function, intermediate.allocate_stock_reservations.

    `install_reservation_functions()` is the project's on-run-start hook (which runs before the model's unit
    tests too): it installs the function only when its definition changed. The md5 of the definition is kept in
    the function's comment; when it equals the md5 of `reservation_function_ddl()`, nothing is executed, so a
    run never drops a function that another run, at the same time, is calling. A changed definition is
    installed in one transaction (drop every old signature, create, comment), under an advisory lock, so that
    two runs starting together after a change do not collide. `dbt run-operation install_reservation_functions_now`
    does the same by hand.

    The function is exact by construction: it is the policy written as the loop an ERP runs. Events are walked
    one at a time in their time sequence: a release reserves, for each of its requirements, from the lots of the
    same material in FEFO order among those eligible *for that requirement*, decrementing each lot's remaining
    quantity at once; a cancellation gives the quantities its order reserved back to their lots at its instant
    (before any release at the same instant), so the next release sees exactly the stock left.
-#}
{% macro reservation_function_schema() -%}
    {{ generate_schema_name('intermediate', none) | trim }}
{%- endmacro %}


{#- What the function's comment says when its definition is the current one. -#}
{% macro reservation_function_comment() -%}
    queijaria_pcp stock reservation (macros/reservation/install_reservation_functions.sql), definition md5 {{ local_md5(reservation_function_ddl()) }}
{%- endmacro %}


{#- The installation SQL when the installed function is missing or another definition; '' when it is current. -#}
{% macro install_reservation_functions() -%}
    {#- Rendered once at parse time too, when nothing can be read from the database. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schema = reservation_function_schema() -%}
    {%- set comment = reservation_function_comment() -%}
    {%- set installed_query -%}
        select
            count(*) as installed,
            count(*) filter (where obj_description(functions.oid, 'pg_proc') = {{ dbt.string_literal(comment) }}) as current
        from pg_catalog.pg_proc as functions
        inner join pg_catalog.pg_namespace as schemas on functions.pronamespace = schemas.oid
        where schemas.nspname = {{ dbt.string_literal(schema) }}
            and functions.proname = 'allocate_stock_reservations'
    {%- endset -%}
    {%- set installed = run_query(installed_query).rows[0] -%}
    {%- if installed['installed'] == 1 and installed['current'] == 1 -%}
        {{ return('') }}
    {%- endif -%}
    {{ log('installing ' ~ schema ~ '.allocate_stock_reservations (its definition changed)', info=true) }}
-- One installer at a time: two runs starting together after a change would both create the function.
select pg_advisory_xact_lock(hashtext('queijaria_pcp.allocate_stock_reservations'));

create schema if not exists {{ schema }};

-- Every old signature goes: a change of the arguments or of the result columns needs no manual step.
do $drop_old$
declare
    old_function regprocedure;
begin
    for old_function in
        select functions.oid::regprocedure
        from pg_catalog.pg_proc as functions
        inner join pg_catalog.pg_namespace as schemas on functions.pronamespace = schemas.oid
        where schemas.nspname = {{ dbt.string_literal(schema) }}
            and functions.proname = 'allocate_stock_reservations'
    loop
        execute format('drop function %s', old_function);
    end loop;
end
$drop_old$;

{{ reservation_function_ddl() }};

comment on function {{ schema }}.allocate_stock_reservations(jsonb, jsonb, jsonb, jsonb, text) is {{ dbt.string_literal(comment) }};
{%- endmacro %}


{% macro install_reservation_functions_now() %}
    {%- set installation = install_reservation_functions() -%}
    {%- if installation | trim -%}
        {% do run_query(installation) %}
        {{ log('installed ' ~ reservation_function_schema() ~ '.allocate_stock_reservations', info=true) }}
    {%- else -%}
        {{ log(reservation_function_schema() ~ '.allocate_stock_reservations is up to date', info=true) }}
    {%- endif -%}
{% endmacro %}


{% macro reservation_function_ddl() -%}
{%- set schema = reservation_function_schema() -%}
create or replace function {{ schema }}.allocate_stock_reservations(
    -- [{scenario_id, order_id, material_id, released_at, priority, due_date, planned_start_at,
    --   requirement_quantity, cancelled_at}]: requirements of the releases to process now; cancelled_at is set
    --   when the order's cancellation (after its release) is processed in this run too.
    p_requirements jsonb,
    -- [{scenario_id, lot_id, material_id, received_at, expires_at, is_qc_released, remaining_quantity}]:
    -- every lot that may serve them, with its quantity not reserved by the events processed before.
    p_lots jsonb,
    -- [{scenario_id, lot_id, returned_quantity, returned_at}]: what orders reserved in earlier runs give back
    -- now, at their cancellation.
    p_returns jsonb,
    -- [{scenario_id, order_id, event_kind, event_at, watermark_at}]: releases and cancellations not processed yet
    -- although at or before the last event processed in their scenario (order_id null: the orders loaded up to
    -- that event are not the ones allocated); any makes the call fail.
    p_late_events jsonb,
    -- Named in the late-event error, so that it says what to rebuild.
    p_model_name text default 'int_stock_reservations_allocated'
)
returns table (
    scenario_id text,
    order_id text,
    material_id text,
    lot_id text,
    reserved_quantity numeric,
    short_quantity numeric,
    lot_remaining_quantity numeric
)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    requirement record;
    lot record;
    given_back record;
    still_needed numeric;
    taken numeric;
    late_count integer;
    late_list text;
    arrivals refcursor;
    arrival record;
    has_arrival boolean;
    remaining numeric[];
    has_return boolean;
    next_return_scenario_id text;
    next_return_at timestamp;
begin
    -- 0. Events are processed once, in their time sequence. A release or a cancellation at or before the last
    --    event already processed in its scenario would change stock that later events already used: refuse. A
    --    row without an order says that the orders loaded up to that event are no longer the ones allocated.
    select
        count(*),
        string_agg(
            case
                when late.order_id is null then format(
                    '%s (the orders loaded up to %s are not the ones allocated)',
                    late.scenario_id, late.watermark_at
                )
                else format(
                    '%s/%s (%s %s, last processed %s)',
                    late.scenario_id, late.order_id, late.event_kind, late.event_at, late.watermark_at
                )
            end,
            '; ' order by late.scenario_id, late.event_at, late.order_id
        )
    into late_count, late_list
    from jsonb_to_recordset(p_late_events) as late (
        scenario_id text, order_id text, event_kind text, event_at timestamp, watermark_at timestamp
    );

    if late_count > 0 then
        raise exception using
            message = format(
                '%s: releases or cancellations arrived at or before the last event already processed in their '
                'scenario, so they cannot be applied incrementally: %s. '
                'Run a full refresh: dbt build --full-refresh -s %s',
                p_model_name, left(late_list, 2000), p_model_name
            ),
            hint = format('dbt build --full-refresh -s %s', p_model_name);
    end if;

    -- 1. The lots, numbered in reception order within scenario: the remaining quantity of lot number n lives in
    --    remaining[n], in memory (updating rows would pile up row versions that every later lookup re-reads, all
    --    inside this one transaction).
    drop table if exists pg_temp.reservation_lots;
    create temp table reservation_lots on commit drop as
    select
        lots.scenario_id, lots.material_id, lots.expires_at, lots.received_at, lots.lot_id, lots.is_qc_released,
        lots.remaining_quantity,
        cast(row_number() over (order by lots.scenario_id, lots.received_at, lots.lot_id) as integer) as lot_number
    from jsonb_to_recordset(p_lots) as lots (
        scenario_id text, lot_id text, material_id text, received_at timestamp, expires_at timestamp,
        is_qc_released boolean, remaining_quantity numeric
    );
    select coalesce(array_agg(lots.remaining_quantity order by lots.lot_number), array[0::numeric])
    into remaining
    from reservation_lots as lots;

    -- 2. Returns still to come, in time order: those of orders reserved in earlier runs now, those of orders
    --    reserved in this run as they are reserved (step 5). Lots that no release of this run can use are left out.
    drop table if exists pg_temp.reservation_returns;
    create temp table reservation_returns (
        scenario_id text not null,
        returned_at timestamp not null,
        lot_number integer not null,
        returned_quantity numeric not null
    ) on commit drop;
    create index on reservation_returns (scenario_id, returned_at);
    insert into reservation_returns
    select lots.scenario_id, returns.returned_at, lots.lot_number, returns.returned_quantity
    from jsonb_to_recordset(p_returns) as returns (
        scenario_id text, lot_id text, returned_quantity numeric, returned_at timestamp
    )
    inner join reservation_lots as lots
        on returns.scenario_id = lots.scenario_id and returns.lot_id = lots.lot_id
    where returns.returned_quantity > 0;
    select returns.scenario_id, returns.returned_at
    into next_return_scenario_id, next_return_at
    from reservation_returns as returns
    order by returns.scenario_id, returns.returned_at
    limit 1;
    has_return := found;

    -- 3. Stock on hand: a FEFO index of the lots within scenario and material. Lots enter it as they arrive
    --    (step 4), so it only ever holds lots received by the release being served and a FEFO walk never wades
    --    through lots of the future. Its rows never change (remaining[] does).
    drop table if exists pg_temp.reservation_stock;
    create temp table reservation_stock (
        scenario_id text not null,
        material_id text not null,
        expires_at timestamp not null,
        received_at timestamp not null,
        lot_id text not null,
        lot_number integer not null,
        primary key (scenario_id, material_id, expires_at, received_at, lot_id)
    ) on commit drop;

    -- Arrivals: the lots that pass the rule that does not depend on the order (QC released) and have stock now
    -- or get some back in this run, in reception order within scenario.
    open arrivals for
        select lots.*
        from reservation_lots as lots
        where lots.is_qc_released
            and (
                lots.remaining_quantity > 0
                or exists (select from reservation_returns as returns where returns.lot_number = lots.lot_number)
            )
        order by lots.lot_number;
    fetch arrivals into arrival;
    has_arrival := found;

    -- 4. Releases in the order sequence (released_at, priority, due date, order id). Materials of one order
    --    never compete with each other (a lot holds one material), so their order is immaterial.
    for requirement in
        select req.*
        from jsonb_to_recordset(p_requirements) as req (
            scenario_id text, order_id text, material_id text, released_at timestamp, priority integer,
            due_date date, planned_start_at timestamp, requirement_quantity numeric, cancelled_at timestamp
        )
        order by req.scenario_id, req.released_at, req.priority, req.due_date, req.order_id, req.material_id
    loop
        -- Cancellations up to this release give their stock back first: at the same instant, a cancellation
        -- precedes a release, so a replacement released when its original is cancelled can use that stock.
        if has_return
            and (next_return_scenario_id, next_return_at) <= (requirement.scenario_id, requirement.released_at)
        then
            for given_back in
                delete from reservation_returns as returns
                where (returns.scenario_id, returns.returned_at) <= (requirement.scenario_id, requirement.released_at)
                returning returns.lot_number, returns.returned_quantity
            loop
                remaining[given_back.lot_number] := remaining[given_back.lot_number] + given_back.returned_quantity;
            end loop;
            select returns.scenario_id, returns.returned_at
            into next_return_scenario_id, next_return_at
            from reservation_returns as returns
            order by returns.scenario_id, returns.returned_at
            limit 1;
            has_return := found;
        end if;

        -- Receive every lot that has arrived by this release (received_at <= released_at, inclusive).
        while has_arrival
            and (arrival.scenario_id, arrival.received_at) <= (requirement.scenario_id, requirement.released_at)
        loop
            insert into reservation_stock
            values (arrival.scenario_id, arrival.material_id, arrival.expires_at, arrival.received_at,
                arrival.lot_id, arrival.lot_number);
            fetch arrivals into arrival;
            has_arrival := found;
        end loop;

        still_needed := requirement.requirement_quantity;

        if still_needed > 0 then
            -- 5. Lots eligible for this order, in FEFO order (expires_at, received_at, lot id): same material,
            --    received by the release, not expired at the planned start (expires_at >= planned_start_at),
            --    QC released (arrivals) and remaining > 0.
            for lot in
                select stock.*
                from reservation_stock as stock
                where stock.scenario_id = requirement.scenario_id
                    and stock.material_id = requirement.material_id
                    and stock.expires_at >= requirement.planned_start_at
                    and stock.received_at <= requirement.released_at
                order by stock.expires_at, stock.received_at, stock.lot_id
            loop
                continue when remaining[lot.lot_number] <= 0;

                -- Partial reservation: take what the lot has, up to what is still needed.
                taken := least(still_needed, remaining[lot.lot_number]);

                -- Reservations are final: the lot's remaining quantity drops now, for every later order,
                -- until the order is cancelled.
                remaining[lot.lot_number] := remaining[lot.lot_number] - taken;
                if requirement.cancelled_at is not null then
                    insert into reservation_returns
                    values (requirement.scenario_id, requirement.cancelled_at, lot.lot_number, taken);
                    if not has_return or (requirement.scenario_id, requirement.cancelled_at)
                        < (next_return_scenario_id, next_return_at)
                    then
                        next_return_scenario_id := requirement.scenario_id;
                        next_return_at := requirement.cancelled_at;
                        has_return := true;
                    end if;
                end if;

                scenario_id := requirement.scenario_id;
                order_id := requirement.order_id;
                material_id := requirement.material_id;
                lot_id := lot.lot_id;
                reserved_quantity := taken;
                short_quantity := 0;
                lot_remaining_quantity := remaining[lot.lot_number];
                return next;

                still_needed := still_needed - taken;
                exit when still_needed = 0;
            end loop;
        end if;

        -- 6. What stays uncovered is the shortage ("falta") of this order and material; one closing row per
        --    requirement, zero when fully reserved, so that reserved + short = requirement row by row.
        scenario_id := requirement.scenario_id;
        order_id := requirement.order_id;
        material_id := requirement.material_id;
        lot_id := null;
        reserved_quantity := 0;
        short_quantity := greatest(still_needed, 0);
        lot_remaining_quantity := null;
        return next;
    end loop;

    close arrivals;
    drop table if exists pg_temp.reservation_stock;
    drop table if exists pg_temp.reservation_returns;
    drop table if exists pg_temp.reservation_lots;
    return;
end;
$function$
{%- endmacro %}
