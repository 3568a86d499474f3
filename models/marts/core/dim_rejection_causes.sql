{#- One row per cause of rejection of finished cheese (DOMAIN.md §2, Quality). -#}

with

rejection_causes as (

    select * from {{ ref('stg_reference__rejection_causes') }}

),

final as (

    select
        rejection_cause_id,
        rejection_cause_name,
        typical_detection_days,
        description as rejection_cause_description
    from rejection_causes

)

select * from final
