with

source as (

    select * from {{ ref('holidays') }}

),

renamed as (

    select
        holiday_date,
        holiday_name
    from source

)

select * from renamed
