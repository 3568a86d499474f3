with

source as (

    select * from {{ ref('shifts') }}

),

renamed as (

    select
        shift_id,
        shift_name,
        start_time,
        end_time,
        duration_min
    from source

)

select * from renamed
