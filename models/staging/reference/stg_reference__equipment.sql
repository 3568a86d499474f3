with

source as (

    select * from {{ ref('equipment') }}

),

renamed as (

    select
        equipment_id,
        line_id,
        equipment_name,
        equipment_type,
        is_shared,
        is_bottleneck,
        weibull_shape,
        weibull_scale_h,
        repair_median_h,
        repair_log_sd,
        preventive_interval_days,
        preventive_duration_h
    from source

)

select * from renamed
