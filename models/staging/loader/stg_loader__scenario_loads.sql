{#-
    Per scenario, the load that last replaced its raw data: incremental models label their rows with it and
    recompute a scenario whose label changed (macros/incremental/delete_replaced_scenario_rows.sql).
-#}

with

source as (

    select * from {{ source('loader', 'load_audit') }}

),

loads as (

    select
        cast(scenario_id as text) as scenario_id,
        load_id,
        mode,
        batch,
        load_audit_id,
        finished_at
    from source

),

-- load_audit_id increases with every row recorded: the scenario's last replace is its highest 'replace' row.
last_replacements as (

    select distinct on (scenario_id)
        scenario_id,
        load_id as scenario_load_id,
        batch as replaced_batch,
        finished_at as replaced_at
    from loads
    where mode = 'replace'
    order by scenario_id asc, load_audit_id desc

),

last_loads as (

    select
        scenario_id,
        max(finished_at) as last_loaded_at
    from loads
    group by scenario_id

),

final as (

    select
        last_replacements.scenario_id,
        last_replacements.scenario_load_id,
        last_replacements.replaced_batch,
        last_replacements.replaced_at,
        last_loads.last_loaded_at
    from last_replacements
    inner join last_loads
        on last_replacements.scenario_id = last_loads.scenario_id

)

select * from final
