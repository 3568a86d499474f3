with

source as (

    select * from {{ source('lims', 'quality_samples') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['scenario_id', 'sample_id']) }} as sample_key,
        cast(scenario_id as {{ dbt.type_string() }}) as scenario_id,
        cast(sample_id as {{ dbt.type_string() }}) as sample_id,
        {{ surrogate_key(['scenario_id', 'order_id']) }} as order_key,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(test_id as {{ dbt.type_string() }}) as test_id,

        -- timestamps
        cast(sampled_at as timestamp) as sampled_at,

        -- result (in the test's unit: stg_reference__quality_tests.unit)
        cast(value as {{ type_decimal() }}) as result_value,
        cast(is_pass as boolean) as is_pass,

        -- metadata
        loaded_at

    from source

)

select * from renamed
