{#-
    The output of each finished production order spread over the days its run covers, in proportion to the run
    time inside each day, so that a day's good kg match the energy the plant used that day. Built from staging
    (not from the production marts) so that the energy marts stand on their own.
-#}

with

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

finished_orders as (

    select
        scenario_id,
        order_id,
        line_id,
        actual_start_at,
        actual_end_at,
        produced_kg,
        good_kg,
        extract(epoch from actual_end_at - actual_start_at) as run_s
    from production_orders
    where
        actual_start_at is not null
        and actual_end_at is not null
        and good_kg is not null

),

order_days as (

    select
        finished_orders.*,
        cast(run_day.day_start_at as date) as output_date,
        extract(
            epoch from
            least(finished_orders.actual_end_at, run_day.day_start_at + interval '1 day')
            - greatest(finished_orders.actual_start_at, run_day.day_start_at)
        ) as day_run_s
    from finished_orders
    cross join lateral generate_series(
        date_trunc('day', finished_orders.actual_start_at),
        -- A run of zero length still has its day.
        greatest(finished_orders.actual_end_at - interval '1 microsecond', finished_orders.actual_start_at),
        interval '1 day'
    ) as run_day (day_start_at)

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'order_id', 'output_date']) }} as order_output_day_key,
        scenario_id,
        order_id,
        line_id,
        output_date,
        -- Quotients without trailing zeros (120, not 120.0000000000000000). Shares of the run inside the day; a
        -- run of zero length is all on its day. Multiplied before dividing, so that a whole share stays exact.
        trim_scale(day_run_s / 60) as run_min,
        trim_scale(coalesce(day_run_s / nullif(run_s, 0), 1)) as run_share,
        trim_scale(coalesce(produced_kg * day_run_s / nullif(run_s, 0), produced_kg)) as produced_kg,
        trim_scale(coalesce(good_kg * day_run_s / nullif(run_s, 0), good_kg)) as good_kg
    from order_days

)

select * from final
