{#-
    The headline KPIs of DOMAIN.md §4 per scenario, side by side, against the baseline over the same days.

    Each KPI is built from daily components (scenario, date, numerator, denominator) read from the marts, summed
    over the days of a KPI window (int_scenario_windows_dated) and divided once: a ratio over many days is
    Σ numerator / Σ denominator, never an average of daily ratios. A component may carry only a numerator or
    only a denominator (MTBF: operating hours from the line days, failures from the maintenance events). OEE is
    the product of the summed availability, effectiveness and quality ratio, stored as fully productive time
    (produced_at_ideal_rate_min × quality ratio) over PBT.

    The baseline is measured over the scenario's own window days, so an effect window compares like days.
    Numbers keep their exact value with trailing zeros trimmed (trim_scale), as the other marts' ratios.
-#}

with

scenario_windows as (

    select * from {{ ref('int_scenario_windows_dated') }}

),

scenarios as (

    select * from {{ ref('dim_scenarios') }}

),

lines as (

    select * from {{ ref('dim_lines') }}

),

line_performance_days as (

    select * from {{ ref('fct_line_performance_daily') }}

),

production_orders as (

    select * from {{ ref('fct_production_orders') }}

),

maintenance_events as (

    select * from {{ ref('fct_maintenance_events') }}

),

quality_days as (

    select * from {{ ref('fct_quality_daily') }}

),

energy_days as (

    select * from {{ ref('fct_energy_daily') }}

),

sensor_days as (

    select * from {{ ref('fct_sensor_daily') }}

),

iot_excursions as (

    select * from {{ ref('fct_iot_excursions') }}

),

inventory_days as (

    select * from {{ ref('fct_inventory_daily') }}

),

milk_dispositions as (

    select * from {{ ref('fct_milk_dispositions') }}

),

kpi_definitions as (

    select * from {{ ref('stg_reference__kpi_definitions') }}

),

baseline_scenarios as (

    select scenario_id
    from scenarios
    where is_baseline

),

plant_production_days as (

    select
        line_performance_days.scenario_id,
        line_performance_days.production_date,
        sum(line_performance_days.regular_pot_min) as regular_pot_min,
        sum(line_performance_days.pbt_min) as pbt_min,
        sum(line_performance_days.apt_min) as apt_min,
        sum(line_performance_days.loaded_min) as loaded_min,
        sum(line_performance_days.produced_at_ideal_rate_min) as produced_at_ideal_rate_min,
        sum(line_performance_days.produced_kg) as produced_kg,
        sum(line_performance_days.good_kg) as good_kg,
        sum(line_performance_days.planned_kg) as planned_kg,
        sum(line_performance_days.attained_kg) as attained_kg,
        sum(line_performance_days.due_order_count) as due_order_count,
        sum(line_performance_days.on_time_in_full_order_count) as on_time_in_full_order_count,
        sum(line_performance_days.late_order_count) as late_order_count,
        sum(line_performance_days.milk_issued_l) as milk_issued_l,
        sum(line_performance_days.milk_issued_from_reserved_l) as milk_issued_from_reserved_l,
        -- every piece of equipment operates while its line runs an order, as in the reliability mart
        sum(line_performance_days.apt_min * lines.equipment_count) / 60 as equipment_operating_h
    from line_performance_days
    inner join lines
        on line_performance_days.line_id = lines.line_id
    group by line_performance_days.scenario_id, line_performance_days.production_date

),

production_components as (

    select
        plant_production_days.scenario_id,
        plant_production_days.production_date as kpi_date,
        measures.kpi_id,
        measures.numerator,
        measures.denominator
    from plant_production_days
    cross join lateral (
        values
        ('availability', plant_production_days.apt_min, plant_production_days.pbt_min),
        ('effectiveness', plant_production_days.produced_at_ideal_rate_min, plant_production_days.apt_min),
        ('quality_ratio', plant_production_days.good_kg, plant_production_days.produced_kg),
        ('schedule_attainment', plant_production_days.attained_kg, plant_production_days.planned_kg),
        (
            'otif',
            cast(plant_production_days.on_time_in_full_order_count as numeric),
            cast(plant_production_days.due_order_count as numeric)
        ),
        (
            'capacity_utilization',
            plant_production_days.loaded_min,
            cast(plant_production_days.regular_pot_min as numeric)
        ),
        ('late_orders', cast(plant_production_days.late_order_count as numeric), null),
        ('fefo_compliance', plant_production_days.milk_issued_from_reserved_l, plant_production_days.milk_issued_l),
        ('mtbf_h', plant_production_days.equipment_operating_h, 0)
    ) as measures (kpi_id, numerator, denominator)

),

failure_days as (

    select
        scenario_id,
        production_date,
        count(*) as failure_count,
        sum(downtime_min) / 60 as repair_h
    from maintenance_events
    where is_corrective
    group by scenario_id, production_date

),

failure_components as (

    select
        failure_days.scenario_id,
        failure_days.production_date as kpi_date,
        measures.kpi_id,
        measures.numerator,
        measures.denominator
    from failure_days
    cross join lateral (
        values
        ('mtbf_h', 0, cast(failure_days.failure_count as numeric)),
        ('mttr_h', failure_days.repair_h, cast(failure_days.failure_count as numeric))
    ) as measures (kpi_id, numerator, denominator)

),

-- An order short at its start (or open now) counts on the day it was released (always within the loaded data).
released_order_days as (

    select
        scenario_id,
        cast(released_at as date) as released_date,
        count(*) filter (where has_material_shortage) as short_order_count,
        coalesce(sum(input_short_l), 0) as input_short_l,
        coalesce(sum(input_short_at_release_l), 0) as input_short_at_release_l
    from production_orders
    where released_at is not null
    group by scenario_id, cast(released_at as date)

),

completed_order_days as (

    select
        scenario_id,
        completed_production_date,
        sum(milk_consumed_l) as milk_consumed_l,
        sum(standard_milk_l) as standard_milk_l
    from production_orders
    where completed_production_date is not null and standard_milk_l > 0
    group by scenario_id, completed_production_date

),

order_components as (

    select
        scenario_id,
        released_date as kpi_date,
        'orders_short' as kpi_id,
        cast(short_order_count as numeric) as numerator,
        cast(null as numeric) as denominator
    from released_order_days

    union all

    select
        scenario_id,
        released_date as kpi_date,
        'short_input_l' as kpi_id,
        input_short_l as numerator,
        null as denominator
    from released_order_days

    union all

    select
        scenario_id,
        released_date as kpi_date,
        'short_at_release_input_l' as kpi_id,
        input_short_at_release_l as numerator,
        null as denominator
    from released_order_days

    union all

    select
        scenario_id,
        completed_production_date as kpi_date,
        'milk_yield_vs_standard' as kpi_id,
        milk_consumed_l as numerator,
        standard_milk_l as denominator
    from completed_order_days

),

quality_components as (

    select
        quality_days.scenario_id,
        quality_days.production_date as kpi_date,
        measures.kpi_id,
        measures.numerator,
        measures.denominator
    from quality_days
    cross join lateral (
        values
        ('rejection_rate', quality_days.rejected_kg, quality_days.produced_kg),
        ('first_pass_yield', quality_days.good_kg, quality_days.produced_kg),
        (
            'lab_failure_rate',
            cast(quality_days.failed_sample_count as numeric),
            cast(quality_days.sample_count as numeric)
        )
    ) as measures (kpi_id, numerator, denominator)

),

-- fct_energy_daily repeats the plant's good kilos of the day on each meter's row: taken once per day.
plant_energy_days as (

    select
        scenario_id,
        energy_date,
        sum(energy_kwh) as energy_kwh,
        sum(ponta_kwh) as ponta_kwh,
        sum(energy_cost_brl) as energy_cost_brl,
        max(plant_good_kg) as plant_good_kg
    from energy_days
    group by scenario_id, energy_date

),

energy_components as (

    select
        plant_energy_days.scenario_id,
        plant_energy_days.energy_date as kpi_date,
        measures.kpi_id,
        measures.numerator,
        measures.denominator
    from plant_energy_days
    cross join lateral (
        values
        ('kwh_per_good_kg', plant_energy_days.energy_kwh, plant_energy_days.plant_good_kg),
        ('ponta_share', plant_energy_days.ponta_kwh, plant_energy_days.energy_kwh),
        ('energy_cost_brl', plant_energy_days.energy_cost_brl, null)
    ) as measures (kpi_id, numerator, denominator)

),

iot_components as (

    select
        scenario_id,
        reading_date as kpi_date,
        'excursion_min' as kpi_id,
        sum(out_of_spec_min) as numerator,
        cast(null as numeric) as denominator
    from sensor_days
    group by scenario_id, reading_date

    union all

    select
        scenario_id,
        started_date as kpi_date,
        'excursions' as kpi_id,
        count(*) as numerator,
        null as denominator
    from iot_excursions
    group by scenario_id, started_date

),

milk_inventory_components as (

    select
        inventory_days.scenario_id,
        inventory_days.inventory_date as kpi_date,
        measures.kpi_id,
        measures.numerator,
        measures.denominator
    from inventory_days
    cross join
        lateral (
            values
            ('milk_received_l', inventory_days.received_quantity, null),
            ('reservations_at_risk_l', inventory_days.reservations_at_risk_quantity, 1),
            ('milk_coverage_days', inventory_days.free_quantity, inventory_days.consumed_quantity)
        ) as measures (kpi_id, numerator, denominator)
    where inventory_days.material_id = 'MILK'

),

-- Counted on the lot's reception day, so that each day's milk is judged by where its own litres went.
milk_disposition_components as (

    select
        scenario_id,
        received_date as kpi_date,
        'milk_disposed_share' as kpi_id,
        sum(sold_spot_l + discarded_l) as numerator,
        sum(received_l) as denominator
    from milk_dispositions
    group by scenario_id, received_date

),

daily_components as (

    select * from production_components

    union all

    select * from failure_components

    union all

    select * from order_components

    union all

    select * from quality_components

    union all

    select * from energy_components

    union all

    select * from iot_components

    union all

    select * from milk_inventory_components

    union all

    select * from milk_disposition_components

),

window_spans as (

    select
        scenario_id,
        kpi_window,
        min(window_start_date) as window_start_date,
        max(window_end_date) as window_end_date,
        sum(window_day_count) as window_day_count,
        bool_and(is_window_complete) as is_window_complete
    from scenario_windows
    group by scenario_id, kpi_window

),

measured_sums as (

    select
        scenario_windows.scenario_id,
        scenario_windows.kpi_window,
        daily_components.scenario_id as measured_scenario_id,
        daily_components.kpi_id,
        coalesce(sum(daily_components.numerator), 0) as numerator,
        coalesce(sum(daily_components.denominator), 0) as denominator
    from scenario_windows
    inner join daily_components
        on daily_components.kpi_date between scenario_windows.window_start_date and scenario_windows.window_end_date
    where
        daily_components.scenario_id = scenario_windows.scenario_id
        or daily_components.scenario_id in (select baseline_scenarios.scenario_id from baseline_scenarios)
    group by
        scenario_windows.scenario_id,
        scenario_windows.kpi_window,
        daily_components.scenario_id,
        daily_components.kpi_id

),

-- Each window is measured in its own scenario and in the baseline.
measured_scenarios as (

    select
        scenario_id,
        kpi_window,
        scenario_id as measured_scenario_id
    from window_spans

    union

    select
        window_spans.scenario_id,
        window_spans.kpi_window,
        baseline_scenarios.scenario_id as measured_scenario_id
    from window_spans
    cross join baseline_scenarios

),

-- Every KPI of every window, zero when nothing happened on its days (no failure, no excursion).
measured_kpis as (

    select
        measured_scenarios.scenario_id,
        measured_scenarios.kpi_window,
        measured_scenarios.measured_scenario_id,
        kpi_definitions.kpi_id,
        kpi_definitions.is_ratio,
        coalesce(measured_sums.numerator, 0) as numerator,
        case when kpi_definitions.is_ratio then coalesce(measured_sums.denominator, 0) end as denominator
    from measured_scenarios
    cross join kpi_definitions
    left join measured_sums
        on
            measured_scenarios.scenario_id = measured_sums.scenario_id
            and measured_scenarios.kpi_window = measured_sums.kpi_window
            and measured_scenarios.measured_scenario_id = measured_sums.measured_scenario_id
            and kpi_definitions.kpi_id = measured_sums.kpi_id

),

ratio_kpis as (

    select
        scenario_id,
        kpi_window,
        measured_scenario_id,
        kpi_id,
        numerator,
        denominator,
        case when is_ratio then {{ safe_divide('numerator', 'denominator') }} else numerator end as kpi_value
    from measured_kpis
    where kpi_id != 'oee'

),

-- OEE = availability × effectiveness × quality ratio = fully productive time / PBT; 0 with PBT and no production.
oee_kpis as (

    select
        availability.scenario_id,
        availability.kpi_window,
        availability.measured_scenario_id,
        'oee' as kpi_id,
        effectiveness.numerator * coalesce(quality_ratio.kpi_value, 0) as numerator,
        availability.denominator
    from ratio_kpis as availability
    inner join ratio_kpis as effectiveness
        on
            availability.scenario_id = effectiveness.scenario_id
            and availability.kpi_window = effectiveness.kpi_window
            and availability.measured_scenario_id = effectiveness.measured_scenario_id
            and effectiveness.kpi_id = 'effectiveness'
    inner join ratio_kpis as quality_ratio
        on
            availability.scenario_id = quality_ratio.scenario_id
            and availability.kpi_window = quality_ratio.kpi_window
            and availability.measured_scenario_id = quality_ratio.measured_scenario_id
            and quality_ratio.kpi_id = 'quality_ratio'
    where availability.kpi_id = 'availability'

),

all_kpis as (

    select * from ratio_kpis

    union all

    select
        *,
        {{ safe_divide('numerator', 'denominator') }} as kpi_value
    from oee_kpis

),

final as (

    select
        {{ surrogate_key(['measured.scenario_id', 'measured.kpi_window', 'measured.kpi_id']) }} as scenario_kpi_key,
        measured.scenario_id,
        measured.kpi_window,
        measured.kpi_id,
        kpi_definitions.kpi_sort_order,
        kpi_definitions.kpi_name,
        kpi_definitions.unit,
        kpi_definitions.is_ratio,
        kpi_definitions.is_higher_better,
        window_spans.window_start_date,
        window_spans.window_end_date,
        cast(window_spans.window_day_count as integer) as window_day_count,
        window_spans.is_window_complete,
        trim_scale(measured.numerator) as kpi_numerator,
        trim_scale(measured.denominator) as kpi_denominator,
        trim_scale(measured.kpi_value) as kpi_value,
        trim_scale(baseline.kpi_value) as baseline_kpi_value,
        trim_scale(measured.kpi_value - baseline.kpi_value) as diff_to_baseline,
        trim_scale({{ safe_divide('measured.kpi_value - baseline.kpi_value', 'abs(baseline.kpi_value)') }})
            as relative_diff_to_baseline
    from all_kpis as measured
    inner join kpi_definitions
        on measured.kpi_id = kpi_definitions.kpi_id
    inner join window_spans
        on
            measured.scenario_id = window_spans.scenario_id
            and measured.kpi_window = window_spans.kpi_window
    left join all_kpis as baseline
        on
            measured.scenario_id = baseline.scenario_id
            and measured.kpi_window = baseline.kpi_window
            and measured.kpi_id = baseline.kpi_id
            and baseline.measured_scenario_id in (select baseline_scenarios.scenario_id from baseline_scenarios)
    where measured.measured_scenario_id = measured.scenario_id

)

select * from final
