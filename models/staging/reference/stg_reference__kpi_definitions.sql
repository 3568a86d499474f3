with

source as (

    select * from {{ ref('kpi_definitions') }}

),

renamed as (

    select
        kpi_id,
        kpi_sort_order,
        kpi_name,
        unit,
        is_ratio,
        is_higher_better
    from source

)

select * from renamed
