with

source as (

    select * from {{ ref('quality_tests') }}

),

renamed as (

    select
        {{ surrogate_key(['product_id', 'test_id']) }} as quality_test_key,
        product_id,
        test_id,
        unit,
        spec_min,
        spec_max
    from source

)

select * from renamed
