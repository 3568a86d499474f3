{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'production_date']},
            {'columns': ['scenario_id', 'rejection_cause_id']},
        ],
    )
}}

{#-
    One row per scenario and quality rejection: the cause, the order, product and line it hit, the production day
    the cheese was made (the day its order completed) and how long after that the defect was found.
-#}

with

quality_rejections as (

    select * from {{ ref('stg_lims__quality_rejections') }}

),

production_orders as (

    select * from {{ ref('int_production_orders_dated') }}

),

rejection_causes as (

    select * from {{ ref('stg_reference__rejection_causes') }}

),

final as (

    select
        quality_rejections.rejection_key,
        quality_rejections.scenario_id,
        quality_rejections.rejection_id,
        quality_rejections.order_id,
        production_orders.product_id,
        production_orders.line_id,
        quality_rejections.rejection_cause_id,
        rejection_causes.rejection_cause_name,
        production_orders.actual_end_at as produced_at,
        production_orders.completed_production_date as production_date,
        quality_rejections.detected_at,
        trim_scale(round(
            extract(epoch from (quality_rejections.detected_at - production_orders.actual_end_at)) / 86400, 2
        )) as detection_delay_days,
        quality_rejections.rejected_kg,
        trim_scale({{ safe_divide('quality_rejections.rejected_kg', 'production_orders.produced_kg') }})
            as share_of_order_produced
    from quality_rejections
    inner join production_orders
        on quality_rejections.order_key = production_orders.order_key
    left join rejection_causes
        on quality_rejections.rejection_cause_id = rejection_causes.rejection_cause_id

)

select * from final
