with

source as (

    select * from {{ source('cmms', 'maintenance_events') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'maintenance_event_id']) }} as maintenance_event_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(maintenance_event_id as {{ dbt.type_string() }}) as maintenance_event_id,
        cast(equipment_id as {{ dbt.type_string() }}) as equipment_id,
        cast(failure_mode_id as {{ dbt.type_string() }}) as failure_mode_id,

        -- attributes
        cast(maintenance_type as {{ dbt.type_string() }}) as maintenance_type,
        maintenance_type = 'corrective' as is_corrective,

        -- timestamps
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,

        -- durations
        {{ seconds_between("started_at", "ended_at") }} / 60.0 as downtime_min,

        -- metadata
        loaded_at

    from source

)

select * from renamed
