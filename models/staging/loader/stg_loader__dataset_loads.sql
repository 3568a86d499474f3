with

source as (

    select * from {{ source('loader', 'load_audit') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['load_audit_id']) }} as dataset_load_key,
        cast(load_audit_id as bigint) as load_audit_id,
        cast(load_id as {{ type_uuid() }}) as load_id,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,

        -- what was loaded
        cast(mode as {{ dbt.type_string() }}) as load_mode,
        cast(batch as {{ dbt.type_string() }}) as batch_name,
        cast(continues as {{ dbt.type_string() }}) as continued_batch_name,
        cast(batch_sha256 as {{ dbt.type_string() }}) as batch_sha256,
        cast(dataset as {{ dbt.type_string() }}) as dataset_name,
        cast(file as {{ dbt.type_string() }}) as file_path,
        cast(sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(rows as bigint) as loaded_rows,
        cast(bytes as bigint) as file_bytes,

        -- timestamps and durations
        started_at,
        finished_at,
        cast(seconds as {{ type_double() }}) as load_duration_s

    from source

)

select * from renamed
