with

source as (

    select * from {{ ref('sensors') }}

),

renamed as (

    select
        sensor_id,
        equipment_id,
        sensor_name,
        measure,
        unit,
        spec_min,
        spec_max,
        nominal_value,
        noise_sd,
        physical_min,
        physical_max
    from source

)

select * from renamed
