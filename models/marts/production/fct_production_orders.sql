{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'line_id', 'planned_production_date']},
            {'columns': ['scenario_id', 'due_date']},
        ],
    )
}}

{#-
    One row per scenario and production order: plan against execution (kilos, times), its stock reservation (what
    was short at release, what at start), what it consumed (milk, material cost) against the recipe standard, its quality results and
    its delivery (late, on time in full).
-#}

with

production_orders as (

    select * from {{ ref('int_production_orders_dated') }}

),

requirements as (

    select * from {{ ref('int_material_requirements_reserved') }}

),

consumptions as (

    select * from {{ ref('int_order_consumptions_aggregated') }}

),

quality_results as (

    select * from {{ ref('int_order_quality_results_aggregated') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

-- The order's requirements as the reservation left them (DOMAIN.md §3). The shortage that counts is what was
-- still open at the start, or is open now for an order not started yet; a cancelled order gave its requirement
-- up.
requirement_shortfalls as (

    select
        *,
        case requirement_status
            when 'started' then short_at_start_quantity
            when 'open' then open_quantity
            else 0
        end as short_quantity
    from requirements

),

reservations as (

    select
        requirements.scenario_id,
        requirements.order_id,
        count(*) as required_material_count,
        count(*) filter (where requirements.short_quantity > 0) as short_material_count,
        coalesce(sum(requirements.short_quantity * raw_materials.unit_cost_brl), 0) as short_material_value_brl,
        sum(requirements.requirement_quantity) filter (
            where requirements.material_id = products.input_material_id
        ) as input_required_l,
        sum(requirements.requirement_quantity - requirements.short_at_release_quantity) filter (
            where requirements.material_id = products.input_material_id
        ) as input_reserved_l,
        coalesce(
            sum(requirements.short_at_release_quantity) filter (
                where requirements.material_id = products.input_material_id
            ),
            0
        ) as input_short_at_release_l,
        coalesce(
            sum(requirements.short_quantity) filter (where requirements.material_id = products.input_material_id),
            0
        ) as input_short_l
    from requirement_shortfalls as requirements
    inner join products
        on requirements.product_id = products.product_id
    inner join raw_materials
        on requirements.material_id = raw_materials.material_id
    group by requirements.scenario_id, requirements.order_id

),

joined as (

    select
        production_orders.*,
        products.input_material_id,
        products.standard_milk_l_per_kg,
        products.standard_material_cost_brl_per_kg,
        reservations.order_id is not null as is_reservation_allocated,
        reservations.required_material_count,
        reservations.short_material_count,
        reservations.short_material_value_brl,
        reservations.input_required_l,
        reservations.input_reserved_l,
        reservations.input_short_at_release_l,
        reservations.input_short_l,
        coalesce(consumptions.milk_consumed_l, 0) as milk_consumed_l,
        coalesce(consumptions.milk_issued_from_reserved_l, 0) as milk_issued_from_reserved_l,
        coalesce(consumptions.material_cost_brl, 0) as material_cost_brl,
        coalesce(quality_results.sample_count, 0) as sample_count,
        coalesce(quality_results.failed_sample_count, 0) as failed_sample_count,
        coalesce(quality_results.rejected_kg, 0) as rejected_kg
    from production_orders
    inner join products
        on production_orders.product_id = products.product_id
    left join reservations
        on
            production_orders.scenario_id = reservations.scenario_id
            and production_orders.order_id = reservations.order_id
    left join consumptions
        on production_orders.order_key = consumptions.order_key
    left join quality_results
        on production_orders.order_key = quality_results.order_key

),

final as (

    select
        order_key,
        scenario_id,
        order_id,
        product_id,
        line_id,
        status,
        priority,
        created_at,
        released_at,
        planned_start_at,
        planned_end_at,
        due_date,
        actual_start_at,
        actual_end_at,
        cancelled_at,
        replaces_order_id,
        planned_production_date,
        completed_production_date,
        trim_scale(extract(epoch from planned_end_at - planned_start_at) / 60) as planned_run_min,
        trim_scale(extract(epoch from actual_end_at - actual_start_at) / 60) as actual_run_min,
        trim_scale(extract(epoch from actual_start_at - planned_start_at) / 60) as start_delay_min,
        planned_kg,
        produced_kg,
        good_kg,
        rejected_kg,
        least(coalesce(produced_kg, 0), planned_kg) as attained_kg,
        is_completed,
        is_cancelled,
        is_replaced,
        is_due,
        is_on_time,
        is_in_full,
        is_late,
        is_on_time_in_full,
        days_late,
        is_reservation_allocated,
        required_material_count,
        short_material_count,
        coalesce(short_material_count > 0, false) as has_material_shortage,
        trim_scale(short_material_value_brl) as short_material_value_brl,
        input_material_id,
        input_required_l,
        input_reserved_l,
        input_short_at_release_l,
        input_short_l,
        milk_consumed_l,
        milk_issued_from_reserved_l,
        trim_scale({{ safe_divide('milk_consumed_l', 'good_kg') }}) as milk_yield_l_per_kg,
        standard_milk_l_per_kg,
        trim_scale(good_kg * standard_milk_l_per_kg) as standard_milk_l,
        trim_scale({{ safe_divide('milk_consumed_l', 'good_kg * standard_milk_l_per_kg') }})
            as milk_yield_vs_standard,
        material_cost_brl,
        trim_scale({{ safe_divide('material_cost_brl', 'good_kg') }}) as material_cost_brl_per_kg,
        trim_scale(good_kg * standard_material_cost_brl_per_kg) as standard_material_cost_brl,
        sample_count,
        failed_sample_count
    from joined

)

select * from final
