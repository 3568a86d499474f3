with

sensors as (

    select * from {{ ref('stg_reference__sensors') }}

),

equipment as (

    select * from {{ ref('stg_reference__equipment') }}

),

lines as (

    select * from {{ ref('stg_reference__lines') }}

),

final as (

    select
        sensors.sensor_id,
        sensors.sensor_name,
        sensors.measure,
        sensors.unit,
        sensors.equipment_id,
        equipment.equipment_name,
        equipment.equipment_type,
        equipment.line_id,
        lines.line_name,
        sensors.spec_min,
        sensors.spec_max,
        sensors.nominal_value,
        sensors.physical_min,
        sensors.physical_max
    from sensors
    inner join equipment
        on sensors.equipment_id = equipment.equipment_id
    left join lines
        on equipment.line_id = lines.line_id

)

select * from final
