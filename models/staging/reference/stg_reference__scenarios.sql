with

source as (

    select * from {{ ref('scenarios') }}

),

renamed as (

    select
        scenario_id,
        scenario_name,
        description,
        effect_start_month,
        effect_start_day_of_month,
        effect_days,
        milk_supply_factor,
        demand_factor,
        ambient_delta_degc,
        {{ seed_text_or_null("breakdown_equipment_id") }} as breakdown_equipment_id
    from source

)

select * from renamed
