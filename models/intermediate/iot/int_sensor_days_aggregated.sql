{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sensor_day_key',
        on_schema_change='fail',
        pre_hook="set local enable_sort = off",
        indexes=[
            {'columns': ['sensor_day_key'], 'unique': True},
            {'columns': ['scenario_id', 'scenario_load_id']},
            {'columns': ['scenario_id', 'reading_date']},
        ],
    )
}}

{#-
    The one pass over the IoT readings: per scenario, sensor and day, the reading count, min / max / sum of
    the values and the out-of-spec readings themselves (two aligned arrays, read time and value). Everything
    downstream (fct_sensor_daily, fct_iot_excursions) reads this small table instead of the readings.

    A reading taken while its process equipment was idle or down (is_equipment_idle: a pasteurizer cooling on a
    Sunday, a stretcher during its breakdown) is not out of spec whatever its value: the equipment is not making
    product, so it is no excursion. Such readings still count in reading_count and the min / max / sum (they are
    what the sensor read), and idle_reading_count says how many there were.

    The arrays are filled without `order by` (that would forbid parallel aggregation): both aggregate the same
    filtered rows in the same order, so element i of one belongs with element i of the other; consumers sort
    after unnesting. The sum is rounded to 6 decimals so that it does not depend on the order in which parallel
    workers add the readings up.

    The full refresh is one parallel sequential pass. The staging view has CTEs, so PostgreSQL plans it apart
    and sees no statistics through it: it takes the (scenario, sensor, day) groups for a tenth of the readings
    and would sort them all on disk. There are a few thousand groups per scenario-year; the pre-hook, local to
    the model's transaction, has them hashed.

    Incremental runs recompute, per scenario built before or loaded since, the last day built (it may have been
    partial) and every later one (a scenario whose raw data the loader replaced has no row left, see
    delete_replaced_scenario_rows, and is computed from its first day; raw data written without the loader needs
    a full refresh): per scenario, a grouped lateral subquery (PostgreSQL keeps it parameterized) whose lower read_at bound
    reaches the raw (read_at, sensor_id, scenario_id) index.
-#}

{%- set day_aggregates -%}
    cast(readings.read_at as date) as reading_date,
    count(*) as reading_count,
    min(readings.reading_value) as value_min,
    max(readings.reading_value) as value_max,
    round(cast(sum(readings.reading_value) as numeric), 6) as value_sum,
    count(*) filter (where readings.is_equipment_idle) as idle_reading_count,
    coalesce(
        array_agg(readings.read_at) filter (
            where
                not readings.is_equipment_idle
                and (readings.reading_value < sensor_limits.spec_min or readings.reading_value > sensor_limits.spec_max)
        ),
        '{}'
    ) as out_of_spec_read_ats,
    coalesce(
        array_agg(readings.reading_value) filter (
            where
                not readings.is_equipment_idle
                and (readings.reading_value < sensor_limits.spec_min or readings.reading_value > sensor_limits.spec_max)
        ),
        '{}'
    ) as out_of_spec_values
{%- endset %}

with

iot_readings as not materialized (

    select * from {{ ref('stg_scada__iot_readings') }}

),

sensors as (

    select * from {{ ref('stg_reference__sensors') }}

),

scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

-- The limits as double precision, like the readings: no numeric conversion per reading.
sensor_limits as (

    select
        sensor_id,
        cast(spec_min as double precision) as spec_min,
        cast(spec_max as double precision) as spec_max
    from sensors

),

{% if is_incremental() -%}

    days_before as (

        select
            scenario_id,
            max(reading_date) as last_reading_date
        from {{ this }}
        group by scenario_id

    ),

    -- The scenarios with data: built before, or loaded since (a replaced scenario has no row left here). Only
    -- these are scanned: a scenario without a raw partition would cost a whole index scan when the raw table
    -- has a single partition (PostgreSQL then drops the run-time partition pruning).
    scenarios as (

        select scenario_id from days_before

        union

        select scenario_id from scenario_loads

    ),

{%- endif %}

sensor_days as (

    {% if is_incremental() -%}
        select
            scenarios.scenario_id,
            new_days.*
        from scenarios
        left join days_before
            on scenarios.scenario_id = days_before.scenario_id
        cross join lateral (
            select
                readings.sensor_id,
                {{ day_aggregates | indent(16) }}
            from iot_readings as readings
            inner join sensor_limits
                on readings.sensor_id = sensor_limits.sensor_id
            where
                readings.scenario_id = scenarios.scenario_id
                and readings.read_at >= coalesce(cast(days_before.last_reading_date as timestamp), '-infinity')
                and readings.read_at < 'infinity'
            group by readings.sensor_id, cast(readings.read_at as date)
        ) as new_days
    {%- else -%}
        select
            readings.scenario_id,
            readings.sensor_id,
            {{ day_aggregates | indent(12) }}
        from iot_readings as readings
        inner join sensor_limits
            on readings.sensor_id = sensor_limits.sensor_id
        group by readings.scenario_id, readings.sensor_id, cast(readings.read_at as date)
    {%- endif %}

),

final as (

    select
        {{ surrogate_key(['sensor_days.scenario_id', 'sensor_days.sensor_id', 'sensor_days.reading_date']) }}
            as sensor_day_key,
        sensor_days.scenario_id,
        scenario_loads.scenario_load_id,
        sensor_days.sensor_id,
        sensor_days.reading_date,
        sensor_days.reading_count,
        sensor_days.idle_reading_count,
        cardinality(sensor_days.out_of_spec_read_ats) as out_of_spec_reading_count,
        sensor_days.value_min,
        sensor_days.value_max,
        sensor_days.value_sum,
        sensor_days.out_of_spec_read_ats,
        sensor_days.out_of_spec_values
    from sensor_days
    left join scenario_loads
        on sensor_days.scenario_id = scenario_loads.scenario_id

)

select * from final
