with

source as (

    select * from {{ ref('energy_meters') }}

),

renamed as (

    select
        meter_id,
        meter_name,
        {{ seed_text_or_null("line_id") }} as line_id,
        load_type,
        base_load_kw,
        kwh_per_kg,
        kw_per_degc_above_25c
    from source

)

select * from renamed
