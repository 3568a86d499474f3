{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='iot_excursion_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['iot_excursion_key'], 'unique': True},
            {'columns': ['scenario_id', 'scenario_load_id']},
            {'columns': ['scenario_id', 'sensor_id', 'started_at']},
            {'columns': ['scenario_id', 'started_date']},
        ],
    )
}}

{#-
    IoT excursions (DOMAIN.md §2): a maximal run of consecutive out-of-spec readings of one sensor.

    The out-of-spec readings (a fraction of a percent of all) come from int_sensor_days_aggregated, the one
    pass over the readings. Two of them that follow each other are consecutive readings of the sensor exactly
    when no reading of the sensor lies between them (any reading between them is in spec): one probe of the raw
    (read_at, sensor_id, scenario_id) index, empty for back-to-back readings. The excursion's end, the sensor's
    first reading after it, is one more bounded probe. No sort or window runs over all readings, and no
    sampling interval is assumed. (The staging view has CTEs, so PostgreSQL plans it apart and only filters
    reach the raw index, never an `order by ... limit`: the probes are filters on read_at ranges.)

    Incremental runs recompute, per scenario, from the latest end of an excursion already closed: every
    out-of-spec reading before it belongs to a closed excursion here, and none of those changes. A sensor whose
    excursion is still open (it ran to the end of the data) is recomputed from that excursion's start, under
    the same key, so that an excursion spanning two loads is one row, as in a full refresh. A scenario whose raw
    data the loader replaced has no row left (delete_replaced_scenario_rows) and is computed from scratch.
-#}

with

-- Used by every probe: `not materialized` lets each read only its rows through the raw index.
iot_readings as not materialized (

    select * from {{ ref('stg_scada__iot_readings') }}

),

sensor_days as (

    select * from {{ ref('int_sensor_days_aggregated') }}

),

sensors as (

    select * from {{ ref('stg_reference__sensors') }}

),

scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

excursions_before as (

    {% if is_incremental() -%}
        select
            scenario_id,
            sensor_id,
            started_at,
            ended_at
        from {{ this }}
    {%- else -%}
        select
            cast(null as text) as scenario_id,
            cast(null as text) as sensor_id,
            cast(null as timestamp) as started_at,
            cast(null as timestamp) as ended_at
        where false
    {%- endif %}

),

-- Per scenario, the latest end of a closed excursion; per sensor, the start of its open excursion.
resume_points as (

    select
        scenario_id,
        max(ended_at) as resume_after_at
    from excursions_before
    group by scenario_id

),

open_excursions as (

    select
        scenario_id,
        sensor_id,
        started_at
    from excursions_before
    where ended_at is null

),

out_of_spec_readings as (

    select
        sensor_days.scenario_id,
        sensor_days.sensor_id,
        sensors.spec_min,
        sensors.spec_max,
        out_of_spec.read_at,
        out_of_spec.reading_value
    from sensor_days
    inner join sensors
        on sensor_days.sensor_id = sensors.sensor_id
    left join resume_points
        on sensor_days.scenario_id = resume_points.scenario_id
    left join open_excursions
        on
            sensor_days.scenario_id = open_excursions.scenario_id
            and sensor_days.sensor_id = open_excursions.sensor_id
    cross join
        lateral unnest(
            sensor_days.out_of_spec_read_ats,
            sensor_days.out_of_spec_values
        ) as out_of_spec (read_at, reading_value)
    where
        sensor_days.out_of_spec_reading_count > 0
        and sensor_days.reading_date >= coalesce(
            cast(least(open_excursions.started_at, resume_points.resume_after_at) as date), '-infinity'
        )
        and (
            out_of_spec.read_at >= open_excursions.started_at
            or out_of_spec.read_at > resume_points.resume_after_at
            or resume_points.resume_after_at is null
        )

),

deviations as (

    select
        scenario_id,
        sensor_id,
        read_at,
        reading_value,
        case
            when reading_value > spec_max then reading_value - spec_max
            else spec_min - reading_value
        end as deviation,
        case when reading_value > spec_max then 'spec_max' else 'spec_min' end as breached_limit,
        case when reading_value > spec_max then spec_max else spec_min end as breached_limit_value,
        lag(read_at) over (
            partition by scenario_id, sensor_id
            order by read_at
        ) as previous_out_of_spec_at
    from out_of_spec_readings

),

starts_flagged as (

    select
        *,
        case
            when previous_out_of_spec_at is null then true
            else exists (
                    select 1
                    from iot_readings as readings_between
                    where
                        readings_between.scenario_id = deviations.scenario_id
                        and readings_between.sensor_id = deviations.sensor_id
                        and readings_between.read_at > deviations.previous_out_of_spec_at
                        and readings_between.read_at < deviations.read_at
                )
        end as is_excursion_start
    from deviations

),

numbered as (

    select
        *,
        count(*) filter (where is_excursion_start) over (
            partition by scenario_id, sensor_id
            order by read_at
            rows between unbounded preceding and current row
        ) as excursion_number
    from starts_flagged

),

excursions as (

    select
        scenario_id,
        sensor_id,
        excursion_number,
        min(read_at) as started_at,
        max(read_at) as last_out_of_spec_at,
        count(*) as out_of_spec_reading_count,
        max(deviation) as worst_deviation,
        (array_agg(breached_limit order by deviation desc, read_at asc))[1] as breached_limit,
        (array_agg(breached_limit_value order by deviation desc, read_at asc))[1] as breached_limit_value,
        (array_agg(reading_value order by deviation desc, read_at asc))[1] as worst_reading_value,
        (array_agg(read_at order by deviation desc, read_at asc))[1] as worst_deviation_at
    from numbered
    group by scenario_id, sensor_id, excursion_number

),

-- The end: the sensor's first reading after the excursion (back in spec), looked for within 15 minutes, then
-- a day, then anywhere; none means the excursion is still open at the end of the data.
ends_found as materialized (

    select
        excursions.*,
        coalesce(
            (
                select min(iot_readings.read_at)
                from iot_readings
                where
                    iot_readings.scenario_id = excursions.scenario_id
                    and iot_readings.sensor_id = excursions.sensor_id
                    and iot_readings.read_at > excursions.last_out_of_spec_at
                    and iot_readings.read_at <= excursions.last_out_of_spec_at + interval '15 minutes'
            ),
            (
                select min(iot_readings.read_at)
                from iot_readings
                where
                    iot_readings.scenario_id = excursions.scenario_id
                    and iot_readings.sensor_id = excursions.sensor_id
                    and iot_readings.read_at > excursions.last_out_of_spec_at + interval '15 minutes'
                    and iot_readings.read_at <= excursions.last_out_of_spec_at + interval '1 day'
            ),
            (
                select min(iot_readings.read_at)
                from iot_readings
                where
                    iot_readings.scenario_id = excursions.scenario_id
                    and iot_readings.sensor_id = excursions.sensor_id
                    and iot_readings.read_at > excursions.last_out_of_spec_at + interval '1 day'
                    and iot_readings.read_at < 'infinity'
            )
        ) as ended_at
    from excursions

),

-- An open excursion lasts at least to the end of its last reading's sampling period, taken as the time since
-- the sensor's reading before it (probed within a day; a sensor's first reading has no period).
durations as (

    select
        *,
        coalesce(
            ended_at,
            last_out_of_spec_at + (
                last_out_of_spec_at - coalesce(
                    (
                        select max(iot_readings.read_at)
                        from iot_readings
                        where
                            iot_readings.scenario_id = ends_found.scenario_id
                            and iot_readings.sensor_id = ends_found.sensor_id
                            and iot_readings.read_at < ends_found.last_out_of_spec_at
                            and iot_readings.read_at >= ends_found.last_out_of_spec_at - interval '1 day'
                    ),
                    last_out_of_spec_at
                )
            )
        ) as out_of_spec_until_at
    from ends_found

),

final as (

    select
        {{ surrogate_key(['durations.scenario_id', 'durations.sensor_id', 'durations.started_at']) }}
            as iot_excursion_key,
        durations.scenario_id,
        scenario_loads.scenario_load_id,
        durations.sensor_id,
        durations.started_at,
        cast(durations.started_at as date) as started_date,
        durations.last_out_of_spec_at,
        durations.ended_at,
        durations.out_of_spec_until_at,
        durations.ended_at is null as is_open,
        durations.out_of_spec_reading_count,
        -- Minutes to 4 decimals, without trailing zeros (6, not 6.0000).
        trim_scale(round(extract(epoch from (durations.out_of_spec_until_at - durations.started_at)) / 60, 4))
            as excursion_min,
        durations.breached_limit,
        cast(durations.breached_limit_value as numeric) as breached_limit_value,
        durations.worst_reading_value,
        durations.worst_deviation,
        durations.worst_deviation_at
    from durations
    left join scenario_loads
        on durations.scenario_id = scenario_loads.scenario_id

)

select * from final
