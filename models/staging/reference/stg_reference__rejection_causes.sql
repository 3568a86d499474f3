with

source as (

    select * from {{ ref('rejection_causes') }}

),

renamed as (

    select
        rejection_cause_id,
        rejection_cause_name,
        typical_detection_days,
        description
    from source

)

select * from renamed
