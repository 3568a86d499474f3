with

source as (

    select * from {{ ref('tariff_periods') }}

),

renamed as (

    select
        tariff_period_id,
        tariff_period_name,
        {{ seed_time_of_day("starts_at_time") }} as starts_at_time,
        {{ seed_time_of_day("ends_at_time") }} as ends_at_time,
        is_weekday_only,
        price_brl_per_kwh
    from source

)

select * from renamed
