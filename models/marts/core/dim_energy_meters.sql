with

energy_meters as (

    select * from {{ ref('stg_reference__energy_meters') }}

),

lines as (

    select * from {{ ref('stg_reference__lines') }}

),

final as (

    select
        energy_meters.meter_id,
        energy_meters.meter_name,
        energy_meters.load_type,
        energy_meters.line_id,
        lines.line_name,
        energy_meters.line_id is null as is_plant_wide,
        energy_meters.base_load_kw,
        energy_meters.kwh_per_kg,
        energy_meters.kw_per_degc_above_25c
    from energy_meters
    left join lines
        on energy_meters.line_id = lines.line_id

)

select * from final
