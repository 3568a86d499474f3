{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'material_id', 'inventory_date']},
            {'columns': ['scenario_id', 'inventory_date']},
        ],
    )
}}

{#-
    Stock per scenario, material and day, at the end of the day (DOMAIN.md §4): on hand, reserved, free,
    coverage days, what expires within 7 days and the reservations at risk, with the day's flows. Every
    material has a row on every day of the scenario's data, zero when it has no stock.

    Coverage days = free quantity / average daily consumption, the average over the 28 days ending on the day
    (fewer at the start of the data: the days loaded so far); null when nothing was consumed in that window.
-#}

with

lot_days as (

    select * from {{ ref('int_stock_lot_days_balanced') }}

),

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

material_days as (

    select
        data_spans.scenario_id,
        raw_materials.material_id,
        raw_materials.unit,
        cast(spine_day.day_start_at as date) as inventory_date,
        cast(spine_day.day_start_at as date) - data_spans.data_first_date + 1 as days_loaded
    from data_spans
    cross join raw_materials
    cross join lateral generate_series(
        cast(data_spans.data_first_date as timestamp),
        cast(data_spans.data_last_date as timestamp),
        interval '1 day'
    ) as spine_day (day_start_at)

),

-- Every consumption, from any lot (QC status does not matter for what the plant used).
daily_consumptions as (

    select
        scenario_id,
        material_id,
        cast(consumed_at as date) as inventory_date,
        sum(quantity) as consumed_quantity
    from material_consumptions
    group by scenario_id, material_id, cast(consumed_at as date)

),

daily_stock as (

    select
        scenario_id,
        material_id,
        stock_date as inventory_date,
        sum(received_quantity) as received_quantity,
        sum(expired_quantity) as expired_quantity,
        sum(on_hand_quantity) as on_hand_quantity,
        sum(reserved_quantity) as reserved_quantity,
        sum(expiring_7d_quantity) as expiring_7d_quantity,
        sum(at_risk_quantity) as at_risk_quantity
    from lot_days
    group by scenario_id, material_id, stock_date

),

filled_days as (

    select
        material_days.scenario_id,
        material_days.material_id,
        material_days.unit,
        material_days.inventory_date,
        least(material_days.days_loaded, 28) as consumption_window_days,
        coalesce(daily_stock.received_quantity, 0) as received_quantity,
        coalesce(daily_consumptions.consumed_quantity, 0) as consumed_quantity,
        coalesce(daily_stock.expired_quantity, 0) as expired_quantity,
        coalesce(daily_stock.on_hand_quantity, 0) as on_hand_quantity,
        coalesce(daily_stock.reserved_quantity, 0) as reserved_quantity,
        coalesce(daily_stock.expiring_7d_quantity, 0) as expiring_7d_quantity,
        coalesce(daily_stock.at_risk_quantity, 0) as reservations_at_risk_quantity
    from material_days
    left join daily_stock
        on
            material_days.scenario_id = daily_stock.scenario_id
            and material_days.material_id = daily_stock.material_id
            and material_days.inventory_date = daily_stock.inventory_date
    left join daily_consumptions
        on
            material_days.scenario_id = daily_consumptions.scenario_id
            and material_days.material_id = daily_consumptions.material_id
            and material_days.inventory_date = daily_consumptions.inventory_date

),

trailing_consumptions as (

    select
        *,
        sum(consumed_quantity) over (
            partition by scenario_id, material_id
            order by inventory_date
            rows between 27 preceding and current row
        ) as consumed_28d_quantity,
        greatest(on_hand_quantity - reserved_quantity, 0) as free_quantity
    from filled_days

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'material_id', 'inventory_date']) }} as inventory_day_key,
        scenario_id,
        material_id,
        inventory_date,
        unit,
        received_quantity,
        consumed_quantity,
        expired_quantity,
        on_hand_quantity,
        reserved_quantity,
        free_quantity,
        expiring_7d_quantity,
        reservations_at_risk_quantity,
        consumed_28d_quantity,
        consumption_window_days,
        -- Quotients without trailing zeros (18, not 18.0000000000000000).
        trim_scale(consumed_28d_quantity / consumption_window_days) as avg_daily_consumed_quantity,
        trim_scale({{ safe_divide('free_quantity', 'consumed_28d_quantity / consumption_window_days') }})
            as coverage_days
    from trailing_consumptions

)

select * from final
