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
           scenario_loads as (select * from {{ ref('stg_loader__scenario_loads') }}),
           ...
           left join scenario_loads on scenario_loads.scenario_id = <rows>.scenario_id
           -> scenario_loads.scenario_load_id as scenario_load_id
       (null for a scenario whose raw data was not written by the loader, e.g. by a test).
    2. Have an index whose columns start with scenario_id, scenario_load_id:
           indexes=[{'columns': ['scenario_id', 'scenario_load_id']}, ...]
       Every check below is a probe of it, so the hook costs milliseconds whatever the table's size.
    3. Keep its watermark per scenario, read in the model's SQL from {{ this }} (e.g. max(read_at) grouped by
       scenario_id, left joined so a scenario with no row starts from nothing), never with run_query at compile
       time: the model is compiled before this hook deletes anything.
    Use any built-in incremental strategy; this is a plain pre-hook, run inside the model's transaction.

    A scenario is replaced when a row of it carries another scenario_load_id than stg_loader__scenario_loads
    (or the scenario is no longer there, e.g. after the loader recreated its raw tables). All its rows go, not
    only the stale ones: rows computed on top of stale rows (a load committed during a run) are stale too.
-#}
{% macro delete_replaced_scenario_rows() %}
    {#- Rendered once at parse time for every model (to capture refs): nothing to do then. -#}
    {%- if not execute or model.config.materialized != 'incremental' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if 'scenario_load_id' not in model.columns -%}
        {{ exceptions.raise_compiler_error(
            'Incremental model ' ~ model.name ~ ' must carry and document a scenario_load_id column (the '
            ~ "scenario's current load from ref('stg_loader__scenario_loads')), so that a scenario whose raw "
            ~ 'data was replaced is computed again: see macros/incremental/delete_replaced_scenario_rows.sql.'
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
        left join {{ ref('stg_loader__scenario_loads') }} as scenario_loads
            on scenarios_present.scenario_id = scenario_loads.scenario_id
        where
            scenarios_present.scenario_id is not null
            -- A row labelled with another load than the current one; each test is an index range probe.
            and (
                exists (
                    select from {{ this }} as model_rows
                    where model_rows.scenario_id = scenarios_present.scenario_id
                        and model_rows.scenario_load_id < scenario_loads.scenario_load_id
                )
                or exists (
                    select from {{ this }} as model_rows
                    where model_rows.scenario_id = scenarios_present.scenario_id
                        and model_rows.scenario_load_id > scenario_loads.scenario_load_id
                )
                or exists (
                    select from {{ this }} as model_rows
                    where model_rows.scenario_id = scenarios_present.scenario_id
                        and model_rows.scenario_load_id is null
                        and scenario_loads.scenario_load_id is not null
                )
                or exists (
                    select from {{ this }} as model_rows
                    where model_rows.scenario_id = scenarios_present.scenario_id
                        and model_rows.scenario_load_id is not null
                        and scenario_loads.scenario_load_id is null
                )
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
