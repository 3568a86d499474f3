{{ config(tags=['realistic_range']) }}

-- DOMAIN.md §3: the shortage a planner is shown must be one that will, or did, hurt production. An order that
-- started with a requirement still open was made late, or short, or replaced; one delivered on time in full
-- was a false alarm. A row is such an order. Judged, like the realistic ranges, over a plant-year.
select
    production_orders.scenario_id,
    production_orders.order_id,
    production_orders.line_id,
    production_orders.actual_start_at,
    production_orders.short_material_count,
    production_orders.input_short_l,
    production_orders.planned_kg,
    production_orders.good_kg
from {{ ref('fct_production_orders') }} as production_orders
inner join {{ ref('int_scenario_data_spans_dated') }} as data_spans
    on production_orders.scenario_id = data_spans.scenario_id
where
    data_spans.data_day_count >= {{ var('realistic_range_min_days') }}
    and production_orders.actual_start_at is not null
    and production_orders.short_material_count > 0
    and production_orders.is_on_time_in_full
