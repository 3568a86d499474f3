{#-
    Loads and builds exclude each other: no model ever computes on a mix of raw data from before and after a
    `queijaria load`.

    A load writes the raw schema in one transaction holding the advisory lock 1366649452 exclusively (LOCK_KEY of
    queijaria/loading/loader.py, 0x51756A6C). Every model takes the same lock SHARED in its own transaction, first
    thing (the first +pre-hook in dbt_project.yml), and keeps it to its commit; so:
    - a load never commits while a model runs: it waits for the models running (and says so), not for the build;
    - a model never starts while a load runs: it waits for the commit (models may run together, loads may not);
    - a load that commits between two models of one `dbt build` would leave the later models computing on the new
      raw data and on tables the earlier models built from the old one (the incremental IoT marts then kept wrong
      rows through later builds). So `build_lock_start()` (on-run-start) records the newest load the build starts
      from, keyed by invocation_id, and `build_lock()` stops every model of the build that starts after a newer
      load committed, with a message that says to run the build again. The models already built hold the data
      before the load, as if the build had ended there; the next `dbt build` takes the load as it takes any load
      between two builds, and gives what a full refresh gives.
    The cost per model is one statement: the lock, one primary-key probe and one backward index probe.
    A dbt session holds no lock between models (each model runs in its own connection), and a run killed before
    on-run-end leaves only its row, which a later run deletes.
-#}

{% macro build_invocations_table() -%}
    {{ target.schema }}.dbt_build_invocations
{%- endmacro %}


{#- on-run-start: record the newest load the invocation starts from (after any load running now commits). -#}
{% macro postgres__build_lock_start() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set invocations = build_invocations_table() -%}
-- Two runs starting together on a fresh database would both create the schema and the table.
select pg_advisory_xact_lock(hashtext('queijaria_pcp.dbt_build_invocations'));

create schema if not exists {{ target.schema }};

create table if not exists {{ invocations }} (
    invocation_id text primary key,
    started_at timestamptz not null default now(),
    newest_load_audit_id bigint not null
);

-- Runs killed before their on-run-end left their row; no build lasts a week.
delete from {{ invocations }} where started_at < now() - interval '7 days';

do $build_lock_start$
declare
    newest bigint := 0;
begin
    -- A load running now commits first: the build then starts from it instead of stopping at its first model.
    perform pg_advisory_xact_lock_shared(1366649452);
    if to_regclass('raw.load_audit') is not null then
        select coalesce(max(load_audit_id), 0) into newest from raw.load_audit;
    end if;
    insert into {{ invocations }} (invocation_id, newest_load_audit_id)
    values ({{ dbt.string_literal(invocation_id) }}, newest)
    on conflict (invocation_id) do nothing;
end
$build_lock_start$;
{%- endmacro %}


{#- on-run-end: the invocation's row is of no use any more. -#}
{% macro postgres__build_lock_end() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
do $build_lock_end$
begin
    if to_regclass({{ dbt.string_literal(build_invocations_table()) }}) is not null then
        delete from {{ build_invocations_table() }} where invocation_id = {{ dbt.string_literal(invocation_id) }};
    end if;
end
$build_lock_end$
{%- endmacro %}


{#- The first pre-hook of every model: take the raw data's lock shared, and stop if a load committed since the
    build started. Without a row of on-run-start (it did not run), only the lock is taken. -#}
{% macro postgres__build_lock() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
do $build_lock$
declare
    started_from bigint;
    newest bigint;
    loaded_scenarios text;
    loaded_at timestamptz;
begin
    perform pg_advisory_xact_lock_shared(1366649452);
    if to_regclass({{ dbt.string_literal(build_invocations_table()) }}) is null
        or to_regclass('raw.load_audit') is null
    then
        return;
    end if;
    select newest_load_audit_id into started_from
    from {{ build_invocations_table() }}
    where invocation_id = {{ dbt.string_literal(invocation_id) }};
    select max(load_audit_id) into newest from raw.load_audit;
    if started_from is null or newest is null or newest <= started_from then
        return;
    end if;
    select string_agg(distinct scenario_id, ', ' order by scenario_id), max(finished_at)
    into loaded_scenarios, loaded_at
    from raw.load_audit
    where load_audit_id > started_from;
    raise exception using
        message = format(
            '%s not built: `queijaria load` changed the raw data (scenario %s, at %s) after this dbt run '
            'started, and this model would compute on a mix of the data before and after that load. The models '
            'built before it hold the data before the load. Run `dbt build` again: it builds every model from '
            'the loaded data.',
            {{ dbt.string_literal(model.name) }}, loaded_scenarios, to_char(loaded_at, 'YYYY-MM-DD HH24:MI:SS')
        ),
        hint = 'run dbt build again';
end
$build_lock$
{%- endmacro %}


{#- The three hooks by adapter. Spark has no advisory lock: there, `queijaria load --target spark` and dbt run one
    after the other, not side by side, and the hooks do nothing. -#}
{% macro build_lock_start() -%}
    {{ return(adapter.dispatch('build_lock_start', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro spark__build_lock_start() -%}{%- endmacro %}


{% macro build_lock_end() -%}
    {{ return(adapter.dispatch('build_lock_end', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro spark__build_lock_end() -%}{%- endmacro %}


{% macro build_lock() -%}
    {{ return(adapter.dispatch('build_lock', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro spark__build_lock() -%}{%- endmacro %}
