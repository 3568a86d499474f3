with

equipment as (

    select * from {{ ref('stg_reference__equipment') }}

),

lines as (

    select * from {{ ref('stg_reference__lines') }}

),

sensors as (

    select * from {{ ref('stg_reference__sensors') }}

),

sensor_counts as (

    select
        equipment_id,
        count(*) as sensor_count
    from sensors
    group by equipment_id

),

final as (

    select
        equipment.equipment_id,
        equipment.equipment_name,
        equipment.equipment_type,
        equipment.line_id,
        lines.line_name,
        equipment.is_shared,
        equipment.is_bottleneck,
        coalesce(sensor_counts.sensor_count, 0) as sensor_count,
        equipment.weibull_shape,
        equipment.weibull_scale_h,
        equipment.repair_median_h,
        equipment.repair_log_sd,
        equipment.preventive_interval_days,
        equipment.preventive_duration_h
    from equipment
    inner join lines
        on equipment.line_id = lines.line_id
    left join sensor_counts
        on equipment.equipment_id = sensor_counts.equipment_id

)

select * from final
