{{
    config(
        materialized='view',
    )
}}

{#-
    Per scenario, the version of its raw data loaded: the load that last replaced it. Incremental models label
    their rows with it and compute a scenario again when its label changed
    (macros/incremental/delete_replaced_scenario_rows.sql). A view, so that it is current whatever was built.
-#}

with

dataset_loads as (

    select * from {{ ref('stg_loader__dataset_loads') }}

),

-- load_audit_id increases with every row recorded: the scenario's last replace holds its highest 'replace' row.
replacements_ranked as (

    select
        scenario_id,
        load_id as scenario_load_id,
        batch_name as replaced_batch_name,
        finished_at as replaced_at,
        row_number() over (partition by scenario_id order by load_audit_id desc) as recency_rank
    from dataset_loads
    where load_mode = 'replace'

),

last_replacements as (

    select
        scenario_id,
        scenario_load_id,
        replaced_batch_name,
        replaced_at
    from replacements_ranked
    where recency_rank = 1

),

last_loads as (

    select
        scenario_id,
        max(finished_at) as last_loaded_at
    from dataset_loads
    group by scenario_id

),

final as (

    select
        last_replacements.scenario_id,
        last_replacements.scenario_load_id,
        last_replacements.replaced_batch_name,
        last_replacements.replaced_at,
        last_loads.last_loaded_at
    from last_replacements
    inner join last_loads
        on last_replacements.scenario_id = last_loads.scenario_id

)

select * from final
