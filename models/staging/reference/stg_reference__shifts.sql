with

source as (

    select * from {{ ref('shifts') }}

),

renamed as (

    select
        shift_id,
        shift_name,
        {{ seed_time_of_day("start_time") }} as start_time,
        {{ seed_time_of_day("end_time") }} as end_time,
        duration_min
    from source

)

select * from renamed
