{#- One row per simulation scenario, with the effect it applies (every fact carries scenario_id). -#}

with

scenarios as (

    select * from {{ ref('stg_reference__scenarios') }}

),

final as (

    select
        scenario_id,
        scenario_name,
        description as scenario_description,
        scenario_id = 'baseline' as is_baseline,
        effect_start_month,
        effect_start_day_of_month,
        effect_days,
        milk_supply_factor,
        demand_factor,
        ambient_delta_degc,
        breakdown_equipment_id
    from scenarios

)

select * from final
