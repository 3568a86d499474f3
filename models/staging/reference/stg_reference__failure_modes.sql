with

source as (

    select * from {{ ref('failure_modes') }}

),

renamed as (

    select
        failure_mode_id,
        equipment_type,
        failure_mode_name
    from source

)

select * from renamed
