{#-
    Laboratory samples and quality rejections summed per production order (orders with neither have no row).
-#}

with

quality_samples as (

    select * from {{ ref('stg_lims__quality_samples') }}

),

quality_rejections as (

    select * from {{ ref('stg_lims__quality_rejections') }}

),

sample_totals as (

    select
        order_key,
        scenario_id,
        order_id,
        count(*) as sample_count,
        count(*) filter (where not is_pass) as failed_sample_count
    from quality_samples
    group by order_key, scenario_id, order_id

),

rejection_totals as (

    select
        order_key,
        scenario_id,
        order_id,
        count(*) as rejection_count,
        sum(rejected_kg) as rejected_kg
    from quality_rejections
    group by order_key, scenario_id, order_id

),

final as (

    select
        coalesce(sample_totals.order_key, rejection_totals.order_key) as order_key,
        coalesce(sample_totals.scenario_id, rejection_totals.scenario_id) as scenario_id,
        coalesce(sample_totals.order_id, rejection_totals.order_id) as order_id,
        coalesce(sample_totals.sample_count, 0) as sample_count,
        coalesce(sample_totals.failed_sample_count, 0) as failed_sample_count,
        coalesce(rejection_totals.rejection_count, 0) as rejection_count,
        coalesce(rejection_totals.rejected_kg, 0) as rejected_kg
    from sample_totals
    full outer join rejection_totals
        on sample_totals.order_key = rejection_totals.order_key

)

select * from final
