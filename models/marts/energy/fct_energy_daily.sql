{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'meter_id', 'energy_date']},
            {'columns': ['scenario_id', 'energy_date']},
        ],
    )
}}

{#-
    Energy per scenario, meter and day (DOMAIN.md §2, §4): kWh split into ponta / fora ponta, cost at the green
    tariff plus the month's bandeira surcharge, and the plant's kWh per kg of good product.

    Tariff period of a 15-minute interval, by its start: a timed period of tariff_periods (starts_at_time <
    ends_at_time: ponta, 18:00-21:00) when the start falls inside it and, for a weekday-only period, the day is
    Monday to Friday and not a holiday; otherwise the all-day period (starts_at_time = ends_at_time: fora
    ponta). The 17:45 interval is fora ponta, 18:00 and 20:45 are ponta, 21:00 is fora ponta.
-#}

with

energy_readings as (

    select * from {{ ref('stg_scada__energy_readings') }}

),

tariff_periods as (

    select * from {{ ref('stg_reference__tariff_periods') }}

),

holidays as (

    select * from {{ ref('stg_reference__holidays') }}

),

tariff_flags as (

    select * from {{ ref('stg_reference__tariff_flags') }}

),

tariff_flag_months as (

    select * from {{ ref('stg_reference__tariff_flag_months') }}

),

order_output_days as (

    select * from {{ ref('int_order_output_days_prorated') }}

),

timed_periods as (

    select * from tariff_periods
    where starts_at_time < ends_at_time

),

all_day_periods as (

    select * from tariff_periods
    where starts_at_time = ends_at_time

),

priced_readings as (

    select
        energy_readings.scenario_id,
        energy_readings.meter_id,
        cast(energy_readings.interval_start_at as date) as energy_date,
        energy_readings.energy_kwh,
        timed_periods.tariff_period_id is not null as is_ponta,
        coalesce(timed_periods.price_brl_per_kwh, all_day_periods.price_brl_per_kwh) as price_brl_per_kwh
    from energy_readings
    left join holidays
        on cast(energy_readings.interval_start_at as date) = holidays.holiday_date
    left join timed_periods
        on
            cast(energy_readings.interval_start_at as time) >= timed_periods.starts_at_time
            and cast(energy_readings.interval_start_at as time) < timed_periods.ends_at_time
            and (
                not timed_periods.is_weekday_only
                or (
                    extract(isodow from energy_readings.interval_start_at) <= 5
                    and holidays.holiday_date is null
                )
            )
    cross join all_day_periods

),

meter_days as (

    select
        scenario_id,
        meter_id,
        energy_date,
        count(*) as interval_count,
        sum(energy_kwh) as energy_kwh,
        coalesce(sum(energy_kwh) filter (where is_ponta), 0) as ponta_kwh,
        coalesce(sum(energy_kwh) filter (where not is_ponta), 0) as fora_ponta_kwh,
        sum(energy_kwh * price_brl_per_kwh) as tariff_cost_brl
    from priced_readings
    group by scenario_id, meter_id, energy_date

),

plant_energy_days as (

    select
        scenario_id,
        energy_date,
        sum(energy_kwh) as plant_energy_kwh
    from meter_days
    group by scenario_id, energy_date

),

plant_output_days as (

    select
        scenario_id,
        output_date,
        sum(good_kg) as plant_good_kg
    from order_output_days
    group by scenario_id, output_date

),

-- The bandeira in force in the day's month.
day_flags as (

    select
        tariff_flag_months.month_start_date,
        tariff_flags.tariff_flag_id,
        tariff_flags.surcharge_brl_per_100kwh
    from tariff_flag_months
    inner join tariff_flags
        on tariff_flag_months.tariff_flag_id = tariff_flags.tariff_flag_id

),

final as (

    select
        {{ surrogate_key(['meter_days.scenario_id', 'meter_days.meter_id', 'meter_days.energy_date']) }}
            as energy_day_key,
        meter_days.scenario_id,
        meter_days.meter_id,
        meter_days.energy_date,
        meter_days.interval_count,
        meter_days.energy_kwh,
        meter_days.ponta_kwh,
        meter_days.fora_ponta_kwh,
        -- Quotients and products without trailing zeros (0.5, not 0.50000000000000000000).
        trim_scale({{ safe_divide('meter_days.ponta_kwh', 'meter_days.energy_kwh') }}) as ponta_share,
        trim_scale(meter_days.tariff_cost_brl) as tariff_cost_brl,
        day_flags.tariff_flag_id,
        day_flags.surcharge_brl_per_100kwh,
        trim_scale(meter_days.energy_kwh * day_flags.surcharge_brl_per_100kwh / 100) as flag_surcharge_brl,
        trim_scale(
            meter_days.tariff_cost_brl + meter_days.energy_kwh * day_flags.surcharge_brl_per_100kwh / 100
        ) as energy_cost_brl,
        plant_energy_days.plant_energy_kwh,
        coalesce(plant_output_days.plant_good_kg, 0) as plant_good_kg,
        trim_scale({{ safe_divide('plant_energy_days.plant_energy_kwh', 'plant_output_days.plant_good_kg') }})
            as plant_kwh_per_good_kg
    from meter_days
    inner join plant_energy_days
        on
            meter_days.scenario_id = plant_energy_days.scenario_id
            and meter_days.energy_date = plant_energy_days.energy_date
    left join plant_output_days
        on
            meter_days.scenario_id = plant_output_days.scenario_id
            and meter_days.energy_date = plant_output_days.output_date
    left join day_flags
        on cast(date_trunc('month', meter_days.energy_date) as date) = day_flags.month_start_date

)

select * from final
