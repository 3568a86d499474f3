{#-
    Each completed order's run split over the production days it touched, measured against the line-day's time
    model (int_line_days_scheduled), with its kilos apportioned to the days.

    - run_min: the run [actual_start_at, actual_end_at) inside the production day (repairs included: the order
      holds the line while its equipment is repaired).
    - corrective_downtime_min: corrective maintenance on the line during the run that day.
    - net_run_min = run_min − corrective_downtime_min: time the line really ran the order (equipment operating).
    - loaded_min: run inside the POT windows (shift hours of the calendar), for capacity utilization.
    - unplanned_run_min: run outside the PBT windows (a vat that ran on into its shift's CIP, or past the last
      shift after a repair), and unplanned_corrective_min, the repairs inside it. A vat is not stopped half made:
      the CIP waits or the shift runs over, so that time is busy time too; fct_line_performance_daily adds it to
      the day's PBT, and the whole net run is APT (ISO 22400-2: APT is part of PBT).
    - produced_kg, good_kg: the order's kilos × the day's share of its net run time (the shares of an order add
      up to 1, so the days add up to the order).
    - ideal_kg = net_run_min / PRU: what the APT would make at the product's ideal rate.
    - produced_at_ideal_rate_min = PRU × produced_kg: the run time the produced kilos need at the ideal rate
      (the effectiveness numerator). PRU = 60 / ideal_rate_kg_per_h, minutes per kg.
    Orders still running at the end of the data have no row until a later load completes them.
-#}

{%- set measured_windows = {
    'run_min': 'run_in_day',
    'corrective_downtime_min': 'run_in_day * corrective_windows',
    'loaded_min': 'run_in_day * pot_windows',
    'unplanned_run_min': 'run_in_day - pbt_windows',
    'unplanned_corrective_min': '(run_in_day - pbt_windows) * corrective_windows',
} -%}

with

production_orders as (

    select * from {{ ref('int_production_orders_dated') }}

),

line_days as (

    select * from {{ ref('int_line_days_scheduled') }}

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

order_runs as (

    select
        scenario_id,
        order_id,
        line_id,
        product_id,
        produced_kg,
        good_kg,
        started_production_date,
        completed_production_date,
        tsmultirange(tsrange(actual_start_at, actual_end_at)) as run_windows
    from production_orders
    where actual_end_at is not null

),

-- One row per production day the run may touch (usually one, two when it crosses 06:00).
run_days as (

    select
        order_runs.*,
        cast(run_day.production_day as date) as production_date
    from order_runs
    cross join lateral generate_series(
        order_runs.started_production_date, order_runs.completed_production_date, interval '1 day'
    ) as run_day (production_day)

),

run_day_windows as (

    select
        run_days.scenario_id,
        run_days.order_id,
        run_days.line_id,
        run_days.product_id,
        run_days.production_date,
        run_days.produced_kg,
        run_days.good_kg,
        run_days.run_windows
        * tsmultirange(tsrange(line_days.day_started_at, line_days.day_ended_at)) as run_in_day,
        line_days.pot_windows,
        line_days.pbt_windows,
        line_days.corrective_windows
    from run_days
    inner join line_days
        on
            run_days.scenario_id = line_days.scenario_id
            and run_days.line_id = line_days.line_id
            and run_days.production_date = line_days.production_date

),

measured as materialized (

    select
        scenario_id,
        order_id,
        line_id,
        product_id,
        production_date,
        {% for column, windows in measured_windows.items() %}
            (
                select trim_scale(coalesce(sum(extract(epoch from upper(window_part) - lower(window_part))), 0) / 60)
                from unnest({{ windows }}) as window_part
            ) as {{ column }},
        {% endfor %}
        produced_kg,
        good_kg
    from run_day_windows
    -- an order ending exactly at 06:00 has an empty run on the next production day
    where not isempty(run_in_day)

),

shared as (

    select
        *,
        run_min - corrective_downtime_min as net_run_min,
        {{ safe_divide(
            'run_min - corrective_downtime_min',
            'sum(run_min - corrective_downtime_min) over (partition by scenario_id, order_id)'
        ) }} as run_share
    from measured

),

final as (

    select
        {{ surrogate_key(['shared.scenario_id', 'shared.order_id', 'shared.production_date']) }}
            as order_run_day_key,
        shared.scenario_id,
        shared.order_id,
        shared.line_id,
        shared.product_id,
        shared.production_date,
        shared.run_min,
        shared.corrective_downtime_min,
        shared.net_run_min,
        shared.loaded_min,
        shared.unplanned_run_min,
        shared.unplanned_corrective_min,
        trim_scale(shared.run_share) as run_share,
        trim_scale(shared.produced_kg * shared.run_share) as produced_kg,
        trim_scale(shared.good_kg * shared.run_share) as good_kg,
        trim_scale(60 / products.ideal_rate_kg_per_h) as planned_run_min_per_kg,
        trim_scale(shared.net_run_min * products.ideal_rate_kg_per_h / 60) as ideal_kg,
        trim_scale(
            shared.produced_kg * shared.run_share * 60 / products.ideal_rate_kg_per_h
        ) as produced_at_ideal_rate_min
    from shared
    inner join products
        on shared.product_id = products.product_id

)

select * from final
