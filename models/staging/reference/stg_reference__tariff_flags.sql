with

source as (

    select * from {{ ref('tariff_flags') }}

),

renamed as (

    select
        tariff_flag_id,
        tariff_flag_name,
        surcharge_brl_per_100kwh
    from source

)

select * from renamed
