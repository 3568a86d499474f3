with

source as (

    select * from {{ ref('tariff_flag_months') }}

),

renamed as (

    select
        month_start_date,
        tariff_flag_id
    from source

)

select * from renamed
