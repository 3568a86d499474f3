-- Every kWh read is in fct_energy_daily exactly once (a tariff period matched twice would count it twice).
-- Returns the scenarios and meters whose mart total differs from their readings.

with

energy_readings as (

    select * from {{ ref('stg_scada__energy_readings') }}

),

energy_daily as (

    select * from {{ ref('fct_energy_daily') }}

),

read_totals as (

    select
        scenario_id,
        meter_id,
        sum(energy_kwh) as energy_kwh
    from energy_readings
    group by scenario_id, meter_id

),

mart_totals as (

    select
        scenario_id,
        meter_id,
        sum(energy_kwh) as energy_kwh
    from energy_daily
    group by scenario_id, meter_id

),

final as (

    select
        coalesce(read_totals.scenario_id, mart_totals.scenario_id) as scenario_id,
        coalesce(read_totals.meter_id, mart_totals.meter_id) as meter_id,
        read_totals.energy_kwh as read_kwh,
        mart_totals.energy_kwh as mart_kwh
    from read_totals
    full outer join mart_totals
        on
            read_totals.scenario_id = mart_totals.scenario_id
            and read_totals.meter_id = mart_totals.meter_id
    where read_totals.energy_kwh is distinct from mart_totals.energy_kwh

)

select * from final
