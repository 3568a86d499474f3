{#-
    One row per production line: what it makes, its equipment and its weekly design capacity from the shift
    patterns (planned hours, CIP hours and the hours left for production in an ordinary week without holidays).
-#}

with

lines as (

    select * from {{ ref('stg_reference__lines') }}

),

equipment as (

    select * from {{ ref('stg_reference__equipment') }}

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

line_shift_patterns as (

    select * from {{ ref('stg_reference__line_shift_patterns') }}

),

equipment_counts as (

    select
        line_id,
        count(*) as equipment_count,
        count(*) filter (where is_bottleneck) as bottleneck_equipment_count
    from equipment
    group by line_id

),

product_counts as (

    select
        line_id,
        count(*) as product_count
    from products
    group by line_id

),

weekly_capacity as (

    select
        line_id,
        sum(planned_min) / 60.0 as weekly_pot_h,
        sum(planned_cip_min) / 60.0 as weekly_cip_h
    from line_shift_patterns
    group by line_id

),

final as (

    select
        lines.line_id,
        lines.line_name,
        lines.description as line_description,
        coalesce(equipment_counts.equipment_count, 0) as equipment_count,
        coalesce(equipment_counts.bottleneck_equipment_count, 0) as bottleneck_equipment_count,
        coalesce(product_counts.product_count, 0) as product_count,
        trim_scale(coalesce(weekly_capacity.weekly_pot_h, 0)) as weekly_pot_h,
        trim_scale(coalesce(weekly_capacity.weekly_cip_h, 0)) as weekly_cip_h,
        trim_scale(coalesce(weekly_capacity.weekly_pot_h - weekly_capacity.weekly_cip_h, 0)) as weekly_productive_h
    from lines
    left join equipment_counts
        on lines.line_id = equipment_counts.line_id
    left join product_counts
        on lines.line_id = product_counts.line_id
    left join weekly_capacity
        on lines.line_id = weekly_capacity.line_id

)

select * from final
