with

source as (

    select * from {{ source('loader', 'load_audit') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['load_audit_id']) }} as dataset_load_key,
        cast(load_audit_id as bigint) as load_audit_id,
        cast(load_id as uuid) as load_id,
        cast(scenario_id as text) as scenario_id,

        -- what was loaded
        cast(mode as text) as load_mode,
        cast(batch as text) as batch_name,
        cast(continues as text) as continued_batch_name,
        cast(batch_sha256 as text) as batch_sha256,
        cast(dataset as text) as dataset_name,
        cast(file as text) as file_path,
        cast(sha256 as text) as file_sha256,
        cast(rows as bigint) as loaded_rows,
        cast(bytes as bigint) as file_bytes,

        -- timestamps and durations
        started_at,
        finished_at,
        cast(seconds as double precision) as load_duration_s

    from source

)

select * from renamed
