with

source as (

    select * from {{ source('erp', 'capacity_calendar') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'line_id', 'calendar_date', 'shift_id']) }} as capacity_calendar_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(line_id as {{ dbt.type_string() }}) as line_id,
        cast(calendar_date as date) as calendar_date,
        cast(shift_id as {{ dbt.type_string() }}) as shift_id,

        -- durations
        cast(planned_min as integer) as planned_min,
        cast(planned_downtime_min as integer) as planned_downtime_min,

        -- metadata
        loaded_at

    from source

)

select * from renamed
