{#-
    Stock reservation (DOMAIN.md §3) as one PL/pgSQL function, intermediate.apply_reservation_events.

    `install_reservation_functions()` is the project's on-run-start hook (which runs before the model's unit
    tests too): it installs the function only when its definition changed. The md5 of the definition is kept in
    the function's comment; when it equals the md5 of `reservation_function_ddl()`, nothing is executed, so a
    run never drops a function that another run, at the same time, is calling. A changed definition is
    installed in one transaction (drop every old signature, create, comment), under an advisory lock, so that
    two runs starting together after a change do not collide. `dbt run-operation install_reservation_functions_now`
    does the same by hand.

    The function is exact by construction: it is the policy written as the loop an ERP runs, one event of
    int_reservation_events_sequenced at a time, from the state the earlier events left: a release reserves its
    requirement FEFO from the eligible lots; a receipt, stock a cancellation gives back or a reservation that
    ends fills the open requirements in order sequence; a start issues what the order holds, and its goods issue
    takes that stock out of its lots before anyone else may reserve it; stock leaving a lot otherwise takes it from
    the reservations last in sequence; an expiry ends the reservations of its lot. It returns every
    change it makes (int_reservation_changes_applied).
-#}
{% macro reservation_function_schema() -%}
    {{ generate_schema_name('intermediate', none) | trim }}
{%- endmacro %}


{#- What the function's comment says when its definition is the current one. -#}
{% macro reservation_function_comment() -%}
    queijaria_pcp stock reservation (macros/reservation/install_reservation_functions.sql), definition md5 {{ local_md5(reservation_function_ddl()) }}
{%- endmacro %}


{#- The installation SQL when the installed function is missing or another definition; '' when it is current. -#}
{% macro postgres__install_reservation_functions() -%}
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
            and functions.proname = 'apply_reservation_events'
    {%- endset -%}
    {%- set installed = run_query(installed_query).rows[0] -%}
    {%- if installed['installed'] == 1 and installed['current'] == 1 -%}
        {{ return('') }}
    {%- endif -%}
    {{ log('installing ' ~ schema ~ '.apply_reservation_events (its definition changed)', info=true) }}
-- One installer at a time: two runs starting together after a change would both create the function.
select pg_advisory_xact_lock(hashtext('queijaria_pcp.apply_reservation_events'));

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
            and functions.proname in ('apply_reservation_events', 'apply_reservation_events')
    loop
        execute format('drop function %s', old_function);
    end loop;
end
$drop_old$;

{{ reservation_function_ddl() }};

comment on function {{ schema }}.apply_reservation_events(text, text, timestamp, timestamp, jsonb, jsonb, jsonb, bigint, jsonb, text) is {{ dbt.string_literal(comment) }};
{%- endmacro %}


{% macro install_reservation_functions_now() %}
    {%- set installation = install_reservation_functions() -%}
    {%- if installation | trim -%}
        {% do run_query(installation) %}
        {{ log('installed ' ~ reservation_function_schema() ~ '.apply_reservation_events', info=true) }}
    {%- else -%}
        {{ log(reservation_function_schema() ~ '.apply_reservation_events is up to date', info=true) }}
    {%- endif -%}
{% endmacro %}


{% macro reservation_function_ddl() -%}
{%- set schema = reservation_function_schema() -%}
create or replace function {{ schema }}.apply_reservation_events(
    -- The scenario: every argument below is about it alone.
    p_scenario_id text,
    -- The relation of the events (int_reservation_events_sequenced) and the instants to apply them from
    -- (inclusive: the watermark) and to (exclusive: the data horizon). Read here rather than handed over as an
    -- argument: a year of events is a quarter of a million rows per scenario.
    p_events_relation text,
    p_events_from timestamp,
    p_events_to timestamp,
    -- The state the events before the watermark left (nothing on a full refresh):
    -- [{lot_id, material_id, received_at, expires_at, physical_quantity}]: lots in stock, not expired;
    p_lots jsonb,
    -- [{order_id, material_id, released_at, priority, due_date, planned_start_at, open_quantity}]: requirements
    --   of released orders not started nor cancelled;
    p_requirements jsonb,
    -- [{order_id, material_id, lot_id, open_quantity}]: what those requirements hold of each lot.
    p_reservations jsonb,
    -- Number of the first change written now (changes are numbered in sequence within the scenario).
    p_first_change_number bigint,
    -- [{event_kind, event_source_id, event_at, watermark_at}]: events at or before the watermark that the changes
    -- written before do not reflect (they arrived late); any makes the call fail.
    p_late_events jsonb,
    -- Named in the errors, so that they say what to rebuild.
    p_model_name text
)
returns table (
    change_number bigint,
    event_at timestamp,
    event_rank integer,
    event_kind text,
    event_source_id text,
    order_id text,
    material_id text,
    lot_id text,
    change_kind text,
    reserved_change_quantity numeric,
    requirement_open_quantity numeric
)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    ev record;
    item record;
    late_count integer;
    late_list text;
    -- Lots, numbered once for the whole call (rsv_lot): physical balance, open reservations, whether in stock
    -- (received and not expired), first of its holds (a list in order sequence of their requirements).
    lot_ids text[];
    lot_physical numeric[];
    lot_reserved numeric[];
    lot_in_stock boolean[];
    lot_first_hold integer[];
    lot_materials text[];
    lot_expires timestamp[];
    lot_received timestamp[];
    -- The goods issue under way: the order just started and, per lot, what of its reservation its issues may
    -- still take. Until the goods issue ends (the next event that is not one of its issues) that stock is counted
    -- in lot_reserved, so that no fill in between hands it to another order.
    issuing_order text;
    issuing_lots integer[] := '{}';
    lot_issuing numeric[];
    -- Per material (materials[]), the lots that may have free stock (physical balance above open reservations),
    -- in FEFO order (expires_at, received_at, lot id): a list from free_head through lot_next_free (0: end).
    -- A lot joins it when stock is freed (received, or reservations released at a start or cancellation) and
    -- leaves it, lazily, when a walk finds it with nothing free or expired: the walks stay short.
    lot_next_free integer[];
    lot_in_free boolean[];
    materials text[] := '{}';
    free_head integer[] := '{}';
    freed_lots integer[];
    -- Requirements, numbered once for the whole call in order sequence (rsv_req): material, open quantity,
    -- planned start, whether active (released and neither started nor cancelled), first of its holds (a list in
    -- lot id order). Releases come in order sequence, so the requirements released so far are 1..last_released.
    req_orders text[];
    req_materials text[];
    req_open numeric[];
    req_planned_start timestamp[];
    req_active boolean[];
    req_first_hold integer[];
    last_released integer := 0;
    -- Holds, numbered as they are made: what requirement hold_req holds of lot hold_lot, open; the next hold of
    -- the same requirement and of the same lot (0: none).
    hold_lot integer[] := '{}';
    hold_req integer[] := '{}';
    hold_open numeric[] := '{}';
    hold_next_in_req integer[] := '{}';
    hold_next_in_lot integer[] := '{}';
    hold_in_lot boolean[] := '{}';
    hold_count integer := 0;
    -- Per material, a requirement number at or before its first active one: the walk of open requirements
    -- starts there, past the long tail of those started or cancelled (null: none released yet).
    floor_req integer[] := '{}';
    v_next integer;
    v_material integer;
    v_hold integer;
    v_new_hold integer;
    h_previous integer;
    h_next integer;
    v_previous integer;
    v_req integer;
    v_lot integer;
    new_floor integer;
    lot_holds integer[];
    hold_position integer;
    next_change bigint := p_first_change_number;
    should_fill boolean;
    has_free_stock boolean;
    serve_from timestamp;
    free_quantity numeric;
    taken numeric;
    excess numeric;
begin
    -- 0. Events are applied once, in their sequence. One at or before the watermark that the stored changes do not
    --    reflect would have changed stock or requirements that later events already used: refuse.
    select
        count(*),
        string_agg(
            format('%s %s at %s (last processed %s)', late.event_kind, late.event_source_id, late.event_at,
                late.watermark_at),
            '; ' order by late.event_at, late.event_kind, late.event_source_id
        )
    into late_count, late_list
    from jsonb_to_recordset(p_late_events) as late (
        event_kind text, event_source_id text, event_at timestamp, watermark_at timestamp
    );
    if late_count > 0 then
        raise exception using
            message = format(
                '%s: scenario %s has events at or before the last instant already processed, which cannot be '
                'applied incrementally: %s. Run a full refresh: dbt build --full-refresh -s %s',
                p_model_name, p_scenario_id, left(late_list, 2000), p_model_name
            ),
            hint = format('dbt build --full-refresh -s %s', p_model_name);
    end if;

    -- 1. The events and the carried state as rows, every lot and requirement numbered once, so that the walk
    --    below keeps their state in arrays and lists, with no query per event. (Temporary tables would not do:
    --    rows a transaction deletes stay in its own index scans until it commits, and this runs in one.)
    drop table if exists pg_temp.rsv_event;
    execute format(
        'create temp table rsv_event on commit drop as '
        'select event_at, event_rank, event_kind, event_source_id, released_at, priority, due_date, order_id, '
        'material_id, lot_id, quantity, planned_start_at, received_at, expires_at '
        'from %s where scenario_id = $1 and event_at >= $2 and event_at < $3',
        p_events_relation
    ) using p_scenario_id, p_events_from, p_events_to;
    drop table if exists pg_temp.rsv_carried_lot;
    create temp table rsv_carried_lot on commit drop as
    select *
    from jsonb_to_recordset(p_lots) as lots (
        lot_id text, material_id text, received_at timestamp, expires_at timestamp, physical_quantity numeric
    );
    drop table if exists pg_temp.rsv_carried_req;
    create temp table rsv_carried_req on commit drop as
    select *
    from jsonb_to_recordset(p_requirements) as reqs (
        order_id text, material_id text, released_at timestamp, priority integer, due_date date,
        planned_start_at timestamp, open_quantity numeric
    );

    drop table if exists pg_temp.rsv_lot;
    create temp table rsv_lot on commit drop as
    select
        lots.lot_id,
        lots.material_id,
        lots.expires_at,
        lots.received_at,
        cast(row_number() over (order by lots.lot_id) as integer) as lot_number
    from (
        select carried.lot_id, carried.material_id, carried.expires_at, carried.received_at
        from rsv_carried_lot as carried
        union all
        select events.lot_id, events.material_id, events.expires_at, events.received_at
        from rsv_event as events
        where events.event_kind = 'receipt'
    ) as lots;
    create unique index on rsv_lot (lot_id);
    select
        coalesce(array_agg(lots.lot_id order by lots.lot_number), '{}'),
        coalesce(array_agg(cast(0 as numeric) order by lots.lot_number), '{}'),
        coalesce(array_agg(cast(0 as numeric) order by lots.lot_number), '{}'),
        coalesce(array_agg(false order by lots.lot_number), '{}'),
        coalesce(array_agg(0 order by lots.lot_number), '{}'),
        coalesce(array_agg(lots.material_id order by lots.lot_number), '{}'),
        coalesce(array_agg(lots.expires_at order by lots.lot_number), '{}'),
        coalesce(array_agg(lots.received_at order by lots.lot_number), '{}'),
        coalesce(array_agg(0 order by lots.lot_number), '{}'),
        coalesce(array_agg(false order by lots.lot_number), '{}'),
        coalesce(array_agg(cast(0 as numeric) order by lots.lot_number), '{}')
    into lot_ids, lot_physical, lot_reserved, lot_in_stock, lot_first_hold, lot_materials, lot_expires,
        lot_received, lot_next_free, lot_in_free, lot_issuing
    from rsv_lot as lots;


    drop table if exists pg_temp.rsv_req;
    create temp table rsv_req on commit drop as
    select
        reqs.order_id,
        reqs.material_id,
        reqs.planned_start_at,
        cast(
            row_number() over (
                order by reqs.released_at, reqs.priority, reqs.due_date, reqs.order_id, reqs.material_id
            ) as integer
        ) as req_number
    from (
        select
            carried.order_id, carried.material_id, carried.released_at, carried.priority, carried.due_date,
            carried.planned_start_at
        from rsv_carried_req as carried
        union all
        select
            events.order_id, events.material_id, events.released_at, events.priority, events.due_date,
            events.planned_start_at
        from rsv_event as events
        where events.event_kind = 'release'
    ) as reqs;
    create unique index on rsv_req (order_id, material_id);
    select
        coalesce(array_agg(reqs.order_id order by reqs.req_number), '{}'),
        coalesce(array_agg(reqs.material_id order by reqs.req_number), '{}'),
        coalesce(array_agg(cast(0 as numeric) order by reqs.req_number), '{}'),
        coalesce(array_agg(reqs.planned_start_at order by reqs.req_number), '{}'),
        coalesce(array_agg(false order by reqs.req_number), '{}'),
        coalesce(array_agg(0 order by reqs.req_number), '{}')
    into req_orders, req_materials, req_open, req_planned_start, req_active, req_first_hold
    from rsv_req as reqs;
    select coalesce(array_agg(all_materials.material_id order by all_materials.material_id), '{}')
    into materials
    from (
        select lots.material_id from rsv_lot as lots
        union
        select reqs.material_id from rsv_req as reqs
    ) as all_materials;
    free_head := array_fill(0, array[greatest(cardinality(materials), 1)]);
    floor_req := array_fill(cast(null as integer), array[greatest(cardinality(materials), 1)]);

    -- 2. The carried state: lots in stock, active requirements (numbered first: released before any event
    --    here), what they hold.
    for item in
        select carried.physical_quantity, lots.lot_number
        from rsv_carried_lot as carried
        inner join rsv_lot as lots on carried.lot_id = lots.lot_id
    loop
        lot_physical[item.lot_number] := item.physical_quantity;
        lot_in_stock[item.lot_number] := true;
    end loop;
    for item in
        select carried.open_quantity, reqs.req_number
        from rsv_carried_req as carried
        inner join rsv_req as reqs on carried.order_id = reqs.order_id and carried.material_id = reqs.material_id
        order by reqs.req_number
    loop
        req_open[item.req_number] := item.open_quantity;
        req_active[item.req_number] := true;
        last_released := item.req_number;
        v_material := array_position(materials, req_materials[item.req_number]);
        floor_req[v_material] := coalesce(floor_req[v_material], item.req_number);
    end loop;
    for item in
        select held.open_quantity, reqs.req_number, lots.lot_number
        from jsonb_to_recordset(p_reservations) as held (
            order_id text, material_id text, lot_id text, open_quantity numeric
        )
        inner join rsv_req as reqs on held.order_id = reqs.order_id and held.material_id = reqs.material_id
        inner join rsv_lot as lots on held.lot_id = lots.lot_id
        -- Each list is built by pushing to its front: the requirement's in descending lot id, the lot's in
        -- descending order sequence, so that both read ascending.
        order by held.lot_id desc, reqs.req_number desc
    loop
        hold_count := hold_count + 1;
        hold_lot[hold_count] := item.lot_number;
        hold_req[hold_count] := item.req_number;
        hold_open[hold_count] := item.open_quantity;
        hold_next_in_req[hold_count] := req_first_hold[item.req_number];
        req_first_hold[item.req_number] := hold_count;
        hold_next_in_lot[hold_count] := 0;
        hold_in_lot[hold_count] := true;
        lot_reserved[item.lot_number] := lot_reserved[item.lot_number] + item.open_quantity;
    end loop;
    -- The lots' lists, each in ascending order sequence.
    for item in
        select holds.hold_number
        from unnest(hold_req, hold_lot) with ordinality as holds (req_number, lot_number, hold_number)
        order by holds.req_number desc
    loop
        v_lot := hold_lot[item.hold_number];
        hold_next_in_lot[item.hold_number] := lot_first_hold[v_lot];
        lot_first_hold[v_lot] := item.hold_number;
    end loop;

    -- The lots with free stock, each material's list built by pushing to its front in descending FEFO order.
    for item in
        select lots.lot_number
        from rsv_carried_lot as carried
        inner join rsv_lot as lots on carried.lot_id = lots.lot_id
        order by carried.expires_at desc, carried.received_at desc, carried.lot_id desc
    loop
        v_lot := item.lot_number;
        if lot_physical[v_lot] > lot_reserved[v_lot] then
            v_material := array_position(materials, lot_materials[v_lot]);
            lot_next_free[v_lot] := free_head[v_material];
            free_head[v_material] := v_lot;
            lot_in_free[v_lot] := true;
        end if;
    end loop;

    -- 3. The events, in their sequence.
    for ev in
        select events.*, lots.lot_number, reqs.req_number
        from rsv_event as events
        left join rsv_lot as lots on events.lot_id = lots.lot_id
        left join rsv_req as reqs on events.order_id = reqs.order_id and events.material_id = reqs.material_id
        order by events.event_at, events.event_rank, events.released_at, events.priority, events.due_date,
            events.order_id, events.event_kind = 'issue', events.event_source_id, events.material_id
    loop
        should_fill := false;
        freed_lots := '{}';
        event_at := ev.event_at;
        event_rank := ev.event_rank;
        event_kind := ev.event_kind;
        event_source_id := ev.event_source_id;

        -- The goods issue under way ends at the first event that is not the order's start (one per material) or
        -- issue: what the vat did not take of the reservation is free again (it fills at the next event that
        -- fills, as stock a start frees always did).
        if issuing_order is not null
            and (ev.event_kind not in ('start', 'issue') or ev.order_id is distinct from issuing_order)
        then
            foreach v_lot in array issuing_lots loop
                lot_reserved[v_lot] := lot_reserved[v_lot] - lot_issuing[v_lot];
                lot_issuing[v_lot] := 0;
            end loop;
            freed_lots := issuing_lots;
            issuing_lots := '{}';
            issuing_order := null;
        end if;

        if ev.event_kind = 'receipt' then
            -- The lot enters available stock and fills the open requirements of its material.
            lot_physical[ev.lot_number] := ev.quantity;
            lot_in_stock[ev.lot_number] := true;
            freed_lots := freed_lots || ev.lot_number;
            should_fill := true;

        elsif ev.event_kind = 'release' then
            -- The requirement is reserved FEFO from the available eligible lots (step 4, for it alone); the rest
            -- stays open.
            req_open[ev.req_number] := ev.quantity;
            req_active[ev.req_number] := true;
            last_released := ev.req_number;
            v_material := array_position(materials, ev.material_id);
            floor_req[v_material] := coalesce(floor_req[v_material], ev.req_number);

        elsif ev.event_kind in ('cancellation', 'start') then
            -- A cancellation gives the order's holds back to their lots, which then fill the open requirements
            -- of others; a start issues them (goods issue), and what is still open is its shortage at start.
            if ev.req_number is not null and req_active[ev.req_number] then
                req_active[ev.req_number] := false;
                v_hold := req_first_hold[ev.req_number];
                while v_hold > 0 loop
                    if hold_open[v_hold] > 0 then
                        v_lot := hold_lot[v_hold];
                        if ev.event_kind = 'start' then
                            lot_issuing[v_lot] := lot_issuing[v_lot] + hold_open[v_hold];
                            issuing_lots := issuing_lots || v_lot;
                            issuing_order := ev.order_id;
                        else
                            lot_reserved[v_lot] := lot_reserved[v_lot] - hold_open[v_hold];
                            freed_lots := freed_lots || v_lot;
                        end if;
                        change_number := next_change;
                        next_change := next_change + 1;
                        order_id := ev.order_id;
                        material_id := ev.material_id;
                        lot_id := lot_ids[v_lot];
                        change_kind := case when ev.event_kind = 'start' then 'issued' else 'returned' end;
                        reserved_change_quantity := -hold_open[v_hold];
                        requirement_open_quantity := req_open[ev.req_number];
                        return next;
                        hold_open[v_hold] := 0;
                    end if;
                    v_hold := hold_next_in_req[v_hold];
                end loop;
                change_number := next_change;
                next_change := next_change + 1;
                order_id := ev.order_id;
                material_id := ev.material_id;
                lot_id := null;
                change_kind := case when ev.event_kind = 'start' then 'started' else 'cancelled' end;
                reserved_change_quantity := 0;
                requirement_open_quantity := req_open[ev.req_number];
                return next;
                should_fill := ev.event_kind = 'cancellation';
            end if;

        elsif ev.event_kind in ('issue', 'movement', 'expiry') then
            -- Stock leaves the lot physically, or all of it stops being usable (expiry). The reservations no
            -- longer covered end: on an expiry all of them, in order sequence; on an issue or a movement those
            -- last in order sequence, as far as what is left falls short. Their requirements are open again.
            if ev.lot_number is not null and lot_in_stock[ev.lot_number] then
                v_lot := ev.lot_number;
                if ev.event_kind = 'expiry' then
                    lot_in_stock[v_lot] := false;
                    excess := lot_reserved[v_lot];
                    should_fill := true;
                else
                    if ev.quantity > lot_physical[v_lot] then
                        raise exception using message = format(
                            '%s: lot %s of scenario %s gives %s at %s (%s %s) but holds %s',
                            p_model_name, ev.lot_id, p_scenario_id, ev.quantity, ev.event_at, ev.event_kind,
                            ev.event_source_id, lot_physical[v_lot]
                        );
                    end if;
                    if ev.event_kind = 'issue' and lot_issuing[v_lot] > 0 then
                        taken := least(lot_issuing[v_lot], ev.quantity);
                        lot_issuing[v_lot] := lot_issuing[v_lot] - taken;
                        lot_reserved[v_lot] := lot_reserved[v_lot] - taken;
                    end if;
                    lot_physical[v_lot] := lot_physical[v_lot] - ev.quantity;
                    excess := lot_reserved[v_lot] - lot_physical[v_lot];
                    should_fill := excess > 0;
                end if;
                if excess > 0 then
                    -- The lot's holds, ascending in order sequence; an issue or a movement walks them backwards.
                    lot_holds := '{}';
                    v_hold := lot_first_hold[v_lot];
                    while v_hold > 0 loop
                        if hold_open[v_hold] > 0 then
                            lot_holds := lot_holds || v_hold;
                        end if;
                        v_hold := hold_next_in_lot[v_hold];
                    end loop;
                    for hold_position in 1 .. coalesce(array_length(lot_holds, 1), 0) loop
                        exit when excess <= 0;
                        if ev.event_kind = 'expiry' then
                            v_hold := lot_holds[hold_position];
                        else
                            v_hold := lot_holds[array_length(lot_holds, 1) + 1 - hold_position];
                        end if;
                        v_req := hold_req[v_hold];
                        taken := least(hold_open[v_hold], excess);
                        hold_open[v_hold] := hold_open[v_hold] - taken;
                        lot_reserved[v_lot] := lot_reserved[v_lot] - taken;
                        req_open[v_req] := req_open[v_req] + taken;
                        excess := excess - taken;
                        change_number := next_change;
                        next_change := next_change + 1;
                        order_id := req_orders[v_req];
                        material_id := req_materials[v_req];
                        lot_id := ev.lot_id;
                        change_kind := case when ev.event_kind = 'expiry' then 'expired' else 'displaced' end;
                        reserved_change_quantity := -taken;
                        requirement_open_quantity := req_open[v_req];
                        return next;
                    end loop;
                end if;
            end if;
        end if;

        -- 4. Open requirements take the stock available now, in order sequence (on a release, the one released
        --    alone), each FEFO among its eligible lots: in stock, expires_at >= its planned start. A lot that
        --    expired before now is out of stock, so the walk starts at now or the planned start, whichever later.
        -- Lots with stock freed now join their material's free list at their FEFO place.
        foreach v_lot in array freed_lots loop
            continue when lot_in_free[v_lot] or not lot_in_stock[v_lot] or lot_physical[v_lot] <= lot_reserved[v_lot];
            v_material := array_position(materials, lot_materials[v_lot]);
            v_previous := 0;
            v_next := free_head[v_material];
            while v_next > 0 and (lot_expires[v_next], lot_received[v_next], lot_ids[v_next])
                < (lot_expires[v_lot], lot_received[v_lot], lot_ids[v_lot])
            loop
                v_previous := v_next;
                v_next := lot_next_free[v_next];
            end loop;
            lot_next_free[v_lot] := v_next;
            if v_previous = 0 then
                free_head[v_material] := v_lot;
            else
                lot_next_free[v_previous] := v_lot;
            end if;
            lot_in_free[v_lot] := true;
        end loop;
        v_material := array_position(materials, ev.material_id);
        -- A material no lot in stock and no requirement has (a lot refused at reception, discarded): nothing to
        -- fill, nothing to list.
        continue when v_material is null;
        -- The free list drops, from its front, the lots with nothing free or expired: then it has free stock
        -- when it is not empty.
        v_lot := free_head[v_material];
        while v_lot > 0 and (not lot_in_stock[v_lot] or lot_physical[v_lot] <= lot_reserved[v_lot]) loop
            lot_in_free[v_lot] := false;
            v_lot := lot_next_free[v_lot];
        end loop;
        free_head[v_material] := v_lot;
        has_free_stock := v_lot > 0 and (should_fill or ev.event_kind = 'release');
        if has_free_stock then
            if ev.event_kind = 'release' then
                v_req := ev.req_number;
            else
                v_req := coalesce(floor_req[v_material], last_released + 1);
            end if;
            new_floor := null;
            while v_req <= last_released loop
                if req_active[v_req] and req_materials[v_req] = ev.material_id then
                    new_floor := coalesce(new_floor, v_req);
                    if req_open[v_req] > 0 then
                        serve_from := req_planned_start[v_req];
                        v_previous := 0;
                        v_lot := free_head[v_material];
                        while v_lot > 0 loop
                            v_next := lot_next_free[v_lot];
                            free_quantity := lot_physical[v_lot] - lot_reserved[v_lot];
                            if not lot_in_stock[v_lot] or free_quantity <= 0 then
                                -- Nothing free: out of the list.
                                lot_in_free[v_lot] := false;
                                if v_previous = 0 then
                                    free_head[v_material] := v_next;
                                else
                                    lot_next_free[v_previous] := v_next;
                                end if;
                                v_lot := v_next;
                                continue;
                            end if;
                            if lot_expires[v_lot] < serve_from then
                                v_previous := v_lot;
                                v_lot := v_next;
                                continue;
                            end if;
                            taken := least(free_quantity, req_open[v_req]);
                            -- The requirement's hold of this lot, or a new one in both lists at its place.
                            h_previous := 0;
                            v_hold := req_first_hold[v_req];
                            while v_hold > 0 and lot_ids[hold_lot[v_hold]] < lot_ids[v_lot] loop
                                h_previous := v_hold;
                                v_hold := hold_next_in_req[v_hold];
                            end loop;
                            if v_hold = 0 or hold_lot[v_hold] <> v_lot then
                                hold_count := hold_count + 1;
                                hold_lot[hold_count] := v_lot;
                                hold_req[hold_count] := v_req;
                                hold_open[hold_count] := 0;
                                hold_in_lot[hold_count] := false;
                                hold_next_in_req[hold_count] := v_hold;
                                if h_previous = 0 then
                                    req_first_hold[v_req] := hold_count;
                                else
                                    hold_next_in_req[h_previous] := hold_count;
                                end if;
                                v_hold := hold_count;
                            end if;
                            if not hold_in_lot[v_hold] then
                                -- Into the lot's list at its place in order sequence; the walk drops the holds
                                -- it meets that are closed (a lot long in stock is held by many orders in turn).
                                v_new_hold := v_hold;
                                h_previous := 0;
                                v_hold := lot_first_hold[v_lot];
                                while v_hold > 0 and (hold_open[v_hold] <= 0 or hold_req[v_hold] < v_req) loop
                                    h_next := hold_next_in_lot[v_hold];
                                    if hold_open[v_hold] <= 0 then
                                        hold_in_lot[v_hold] := false;
                                        if h_previous = 0 then
                                            lot_first_hold[v_lot] := h_next;
                                        else
                                            hold_next_in_lot[h_previous] := h_next;
                                        end if;
                                    else
                                        h_previous := v_hold;
                                    end if;
                                    v_hold := h_next;
                                end loop;
                                hold_next_in_lot[v_new_hold] := v_hold;
                                if h_previous = 0 then
                                    lot_first_hold[v_lot] := v_new_hold;
                                else
                                    hold_next_in_lot[h_previous] := v_new_hold;
                                end if;
                                hold_in_lot[v_new_hold] := true;
                                v_hold := v_new_hold;
                            end if;
                            hold_open[v_hold] := hold_open[v_hold] + taken;
                            lot_reserved[v_lot] := lot_reserved[v_lot] + taken;
                            req_open[v_req] := req_open[v_req] - taken;
                            change_number := next_change;
                            next_change := next_change + 1;
                            order_id := req_orders[v_req];
                            material_id := ev.material_id;
                            lot_id := lot_ids[v_lot];
                            change_kind := 'reserved';
                            reserved_change_quantity := taken;
                            requirement_open_quantity := req_open[v_req];
                            return next;
                            exit when req_open[v_req] <= 0;
                            v_previous := v_lot;
                            v_lot := v_next;
                        end loop;
                    end if;
                end if;
                exit when ev.event_kind = 'release';
                v_req := v_req + 1;
            end loop;
            if ev.event_kind <> 'release' then
                floor_req[v_material] := coalesce(new_floor, last_released + 1);
            end if;
        end if;

        -- What a release left open is its shortage at release.
        if ev.event_kind = 'release' then
            change_number := next_change;
            next_change := next_change + 1;
            order_id := ev.order_id;
            material_id := ev.material_id;
            lot_id := null;
            change_kind := 'released';
            reserved_change_quantity := 0;
            requirement_open_quantity := req_open[ev.req_number];
            return next;
        end if;
    end loop;

    return;
end;
$function$
{%- endmacro %}


{#- The reservation's PL/pgSQL function exists on PostgreSQL only; on Spark the reservation is computed otherwise (issue 21, not yet). -#}
{% macro install_reservation_functions() -%}
    {{ return(adapter.dispatch('install_reservation_functions', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro spark__install_reservation_functions() -%}{%- endmacro %}
