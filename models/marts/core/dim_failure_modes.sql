{#- One row per failure mode of corrective maintenance, with the equipment type it applies to. -#}

with

failure_modes as (

    select * from {{ ref('stg_reference__failure_modes') }}

),

final as (

    select
        failure_mode_id,
        failure_mode_name,
        equipment_type
    from failure_modes

)

select * from final
