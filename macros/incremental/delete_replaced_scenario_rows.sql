{#-
    Incremental models never serve results of raw data that is gone.

    `queijaria load` either appends batches that continue a scenario's simulation or REPLACES the scenario's raw
    data (a fresh simulation: shorter, longer, another seed). An incremental run only adds what is new since its
    watermark, so after a replace it would keep the rows of the old data. This pre-hook (set for every model in
    dbt_project.yml; it does nothing for models that are not incremental, on a first build and on
    --full-refresh) deletes, before an incremental run, every row of each scenario whose raw data was replaced
    since the rows were computed. The model's own per-scenario watermark then finds nothing for that scenario
    and computes it from scratch, in the same transaction; the other scenarios stay incremental. The next
    `dbt build` after any load therefore gives what a full refresh gives, with no flag to remember.

    Interface: what an incremental model of this project must do.
    1. Carry a column `scenario_load_id` (uuid, documented in its yml: that is how this hook knows the model
       follows the interface) holding, on each row, the scenario's current replacing load:
           scenario_loads as (select * from {{ ref('int_scenario_versions_loaded') }}),
           ...
           left join scenario_loads on scenario_loads.scenario_id = <rows>.scenario_id
           -> scenario_loads.scenario_load_id as scenario_load_id
       (null for a scenario whose raw data was not written by the loader, e.g. by a test).
    2. Have an index whose columns start with scenario_id, scenario_load_id:
           indexes=[{'columns': ['scenario_id', 'scenario_load_id']}, ...]
       The check below is three probes of it per scenario, so the hook costs milliseconds whatever the table's
       size (no scan, no anti-join).
    3. Keep its watermark per scenario, read in the model's SQL from {{ this }}: for each scenario of the
       scenarios seed (stg_reference__scenarios), a left join lateral probe such as `order by read_at desc
       limit 1` on an index (scenario_id, read_at), so that a scenario with no row starts from nothing. Never
       read it with run_query at compile time: the model is compiled before this hook deletes anything.
    Use any built-in incremental strategy; this is a plain pre-hook, run inside the model's transaction.

    A scenario is replaced when a row of it carries another scenario_load_id than int_scenario_versions_loaded
    (or the scenario is no longer there, e.g. after the loader recreated its raw tables). All its rows go, not
    only the stale ones: rows computed on top of stale rows are stale too.
    This hook runs after build_lock() (macros/build_lock), which holds the raw data's lock for the model's
    transaction and stops the model if a load committed since the run started: what it reads cannot change under
    it, and int_scenario_versions_loaded was built from the same raw data as this model reads.
-#}
{% macro delete_replaced_scenario_rows() %}
    {#- Rendered once at parse time for every model (to capture refs): nothing to do then. -#}
    {%- if not execute or model.config.materialized != 'incremental' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if 'scenario_load_id' not in model.columns -%}
        {{ exceptions.raise_compiler_error(
            'Incremental model ' ~ model.name ~ ' must carry and document a scenario_load_id column (the '
            ~ "scenario's current load from ref('int_scenario_versions_loaded')), so that a scenario whose raw "
            ~ 'data was replaced is computed again: see macros/incremental/delete_replaced_scenario_rows.sql.'
        ) }}
    {%- endif -%}

    {#- A table built by a version of the project before this interface: dbt's advice, not a SQL error. -#}
    {%- if 'scenario_load_id' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
        {{ exceptions.raise_compiler_error(
            this ~ ' was built before it carried scenario_load_id (how a replaced scenario is recognised): '
            ~ 'rebuild it once with `dbt build --full-refresh -s ' ~ model.name ~ '`.'
        ) }}
    {%- endif -%}

    {%- set replaced_query -%}
        with recursive

        -- The scenarios in the table, one index probe each (a skip scan of the scenario_id column).
        scenarios_present (scenario_id) as (
            select min(scenario_id) from {{ this }}
            union all
            select (
                select min(model_rows.scenario_id)
                from {{ this }} as model_rows
                where model_rows.scenario_id > scenarios_present.scenario_id
            )
            from scenarios_present
            where scenarios_present.scenario_id is not null
        )

        select
            scenarios_present.scenario_id,
            cast(scenario_loads.scenario_load_id as text) as scenario_load_id
        from scenarios_present
        left join {{ ref('int_scenario_versions_loaded') }} as scenario_loads
            on scenarios_present.scenario_id = scenario_loads.scenario_id
        -- The two ends of the scenario's labels in the index order (nulls after every id): a row labelled with
        -- another load than the current one, or without a label beside labelled rows, shows at one of them.
        left join lateral (
            select model_rows.scenario_load_id
            from {{ this }} as model_rows
            where model_rows.scenario_id = scenarios_present.scenario_id
            order by model_rows.scenario_load_id asc nulls last
            limit 1
        ) as lowest_label on true
        left join lateral (
            select model_rows.scenario_load_id
            from {{ this }} as model_rows
            where model_rows.scenario_id = scenarios_present.scenario_id
            order by model_rows.scenario_load_id desc nulls first
            limit 1
        ) as highest_label on true
        where
            scenarios_present.scenario_id is not null
            and (
                lowest_label.scenario_load_id is distinct from scenario_loads.scenario_load_id
                or highest_label.scenario_load_id is distinct from scenario_loads.scenario_load_id
            )
        order by scenarios_present.scenario_id
    {%- endset -%}
    {%- set replaced = run_query(replaced_query) -%}
    {%- if replaced.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}

    {%- set scenario_ids = [] -%}
    {%- for row in replaced.rows -%}
        {{ log(
            model.name ~ ': the raw data of scenario ' ~ row['scenario_id'] ~ ' was replaced ('
            ~ ('load ' ~ row['scenario_load_id'] if row['scenario_load_id'] else 'no load recorded any more')
            ~ '); its rows are computed again from scratch.',
            info=true
        ) }}
        {%- do scenario_ids.append("'" ~ row['scenario_id'] | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    delete from {{ this }} where scenario_id in ({{ scenario_ids | join(', ') }})
{%- endmacro %}
