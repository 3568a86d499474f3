with

source as (

    select * from {{ ref('lines') }}

),

renamed as (

    select
        line_id,
        line_name,
        description
    from source

)

select * from renamed
