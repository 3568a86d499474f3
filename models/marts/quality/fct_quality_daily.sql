{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'production_date']},
            {'columns': ['scenario_id', 'product_id', 'production_date'], 'unique': True},
        ],
    )
}}

{#-
    Quality per product and production day: the orders completed that day (int_production_orders_dated.
    completed_production_date) with their kilos, rejections and laboratory results, whenever those were found
    (a late-blowing rejection two weeks on lowers the first pass yield of the day the cheese was made).
    Ratios keep their numerators and denominators for roll-ups.
-#}

with

production_orders as (

    select * from {{ ref('int_production_orders_dated') }}

),

quality_results as (

    select * from {{ ref('int_order_quality_results_aggregated') }}

),

completed_orders as (

    select
        production_orders.scenario_id,
        production_orders.product_id,
        production_orders.line_id,
        production_orders.completed_production_date as production_date,
        production_orders.produced_kg,
        production_orders.good_kg,
        coalesce(quality_results.rejected_kg, 0) as rejected_kg,
        coalesce(quality_results.rejection_count, 0) as rejection_count,
        coalesce(quality_results.sample_count, 0) as sample_count,
        coalesce(quality_results.failed_sample_count, 0) as failed_sample_count
    from production_orders
    left join quality_results
        on production_orders.order_key = quality_results.order_key
    where production_orders.actual_end_at is not null

),

product_days as (

    select
        scenario_id,
        product_id,
        line_id,
        production_date,
        count(*) as completed_order_count,
        count(*) filter (where rejection_count > 0) as rejected_order_count,
        sum(produced_kg) as produced_kg,
        sum(good_kg) as good_kg,
        sum(rejected_kg) as rejected_kg,
        sum(rejection_count) as rejection_count,
        sum(sample_count) as sample_count,
        sum(failed_sample_count) as failed_sample_count
    from completed_orders
    group by scenario_id, product_id, line_id, production_date

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'product_id', 'production_date']) }} as quality_day_key,
        scenario_id,
        product_id,
        line_id,
        production_date,
        completed_order_count,
        rejected_order_count,
        produced_kg,
        good_kg,
        rejected_kg,
        cast(rejection_count as bigint) as rejection_count,
        cast(sample_count as bigint) as sample_count,
        cast(failed_sample_count as bigint) as failed_sample_count,
        trim_scale({{ safe_divide('good_kg', 'produced_kg') }}) as first_pass_yield,
        trim_scale({{ safe_divide('rejected_kg', 'produced_kg') }}) as scrap_ratio,
        trim_scale({{ safe_divide('failed_sample_count', 'cast(sample_count as numeric)') }}) as lab_failure_rate
    from product_days

)

select * from final
