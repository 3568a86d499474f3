{#-
    One row per calendar day the scenarios' data covers (int_scenario_data_spans_dated: their capacity calendars) (the production days of every fact), with
    the week, month, holiday and dairy season: the rainy-season milk peak ("safra", October to March) and the dry
    season ("entressafra", April to September), DOMAIN.md §2.
-#}

with

data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

holidays as (

    select * from {{ ref('stg_reference__holidays') }}

),

date_bounds as (

    select
        min(data_first_date) as first_date,
        max(data_last_date) as last_date
    from data_spans

),

days as (

    select cast(calendar_day.day_start as date) as calendar_date
    from date_bounds
    cross join lateral generate_series(
        date_bounds.first_date, date_bounds.last_date, interval '1 day'
    ) as calendar_day (day_start)

),

final as (

    select
        days.calendar_date,
        cast(extract(isodow from days.calendar_date) as integer) as iso_weekday,
        trim(to_char(days.calendar_date, 'Day')) as weekday_name,
        cast(date_trunc('week', days.calendar_date) as date) as week_start_date,
        cast(date_trunc('month', days.calendar_date) as date) as month_start_date,
        cast(extract(year from days.calendar_date) as integer) as calendar_year,
        cast(extract(month from days.calendar_date) as integer) as calendar_month,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name,
        case
            when extract(month from days.calendar_date) between 4 and 9 then 'entressafra'
            else 'safra'
        end as milk_season
    from days
    left join holidays
        on days.calendar_date = holidays.holiday_date

)

select * from final
