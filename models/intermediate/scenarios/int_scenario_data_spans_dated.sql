{#-
    The days of data each scenario has: its first and last simulated day. The ERP's capacity calendar has a row
    per line, day and shift for every simulated day, whether anything was produced or not, so it is the one
    record of the days loaded (loads come in whole days). Every model that needs a scenario's data horizon reads
    it here.
-#}

with

capacity_calendar as (

    select * from {{ ref('stg_erp__capacity_calendar') }}

),

final as (

    select
        scenario_id,
        min(calendar_date) as data_first_date,
        max(calendar_date) as data_last_date,
        {{ days_between('min(calendar_date)', 'max(calendar_date)') }} + 1 as data_day_count,
        -- Loads come in whole days: every event before the start of the day after the last one is in the data.
        cast(max(calendar_date) + 1 as timestamp) as data_horizon_at
    from capacity_calendar
    group by scenario_id

)

select * from final
