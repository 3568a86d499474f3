with

source as (

    select * from {{ ref('line_shift_patterns') }}

),

renamed as (

    select
        {{ surrogate_key(['line_id', 'iso_weekday', 'shift_id']) }} as line_shift_pattern_key,
        line_id,
        iso_weekday,
        shift_id,
        planned_min,
        planned_cip_min
    from source

)

select * from renamed
