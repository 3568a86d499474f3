{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='emptied_lot_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['emptied_lot_key'], 'unique': True},
            {'columns': ['scenario_id', 'lot_id']},
            {'columns': ['scenario_id', 'last_loaded_at']},
            {'columns': ['scenario_id', 'scenario_load_id']},
        ],
    )
}}

{#-
    The stock lots whose whole quantity has left them (issued to orders, sold or discarded), and when: the reservation
    carries a lot in stock with its balance at its watermark, and a lot emptied before it holds nothing without adding
    up its issues. Packaging and ingredient lots keep for years and are issued to thousands of orders: summed at every
    run, the lots emptied long ago made one more day cost in proportion to the history.

    An incremental run takes the lots with an issue or a movement loaded since the rows it wrote last (loaded_at, on the
    raw tables' indexes) and adds up all of each such lot's rows again: the same rows whatever the batches, and a
    row that arrives late counts like any other.
-#}

with

-- The scenarios with data.
data_spans as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

-- Each row is labelled with its scenario's current load: a scenario replaced since is computed again from scratch
-- (macros/incremental/delete_replaced_scenario_rows.sql, run before this).
scenario_loads as (

    select * from {{ ref('int_scenario_versions_loaded') }}

),

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

-- Read twice (the rows loaded since the watermark, then each touched lot's rows): not materialized, so that each
-- read follows its index on the raw table.
material_consumptions as not materialized (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

stock_movements as not materialized (

    select * from {{ ref('stg_erp__stock_movements') }}

),

-- Per scenario, when the rows read last were loaded (one index probe); nothing read yet on a full refresh.
watermarks as (

    select
        data_spans.scenario_id,
        {% if is_incremental() -%}
            last_read.last_loaded_at as watermark_loaded_at
        {%- else -%}
            cast(null as timestamp with time zone) as watermark_loaded_at
        {%- endif %}
    from data_spans
    {% if is_incremental() -%}
        left join lateral (
            select emptied_before.last_loaded_at
            from {{ this }} as emptied_before
            where emptied_before.scenario_id = data_spans.scenario_id
            order by emptied_before.last_loaded_at desc
            limit 1
        ) as last_read on true
    {%- endif %}

),

touched_lots as (

    select distinct
        watermarks.scenario_id,
        touched.lot_id
    from watermarks
    cross join lateral (
        select material_consumptions.lot_id
        from material_consumptions
        where
            material_consumptions.scenario_id = watermarks.scenario_id
            and material_consumptions.loaded_at > coalesce(watermarks.watermark_loaded_at, '-infinity')
        union all
        select stock_movements.lot_id
        from stock_movements
        where
            stock_movements.scenario_id = watermarks.scenario_id
            and stock_movements.loaded_at > coalesce(watermarks.watermark_loaded_at, '-infinity')
    ) as touched

),

lot_outflows as (

    select
        touched_lots.scenario_id,
        touched_lots.lot_id,
        stock_lots.material_id,
        stock_lots.quantity as received_quantity,
        coalesce(issued.quantity, 0) + coalesce(moved.quantity, 0) as left_quantity,
        greatest(issued.last_at, moved.last_at) as last_left_at,
        greatest(issued.last_loaded_at, moved.last_loaded_at) as last_loaded_at
    from touched_lots
    inner join stock_lots
        on
            touched_lots.scenario_id = stock_lots.scenario_id
            and touched_lots.lot_id = stock_lots.lot_id
    left join lateral (
        select
            sum(material_consumptions.quantity) as quantity,
            max(material_consumptions.consumed_at) as last_at,
            max(material_consumptions.loaded_at) as last_loaded_at
        from material_consumptions
        where
            material_consumptions.scenario_id = touched_lots.scenario_id
            and material_consumptions.lot_id = touched_lots.lot_id
    ) as issued on true
    left join lateral (
        select
            sum(stock_movements.quantity) as quantity,
            max(stock_movements.moved_at) as last_at,
            max(stock_movements.loaded_at) as last_loaded_at
        from stock_movements
        where
            stock_movements.scenario_id = touched_lots.scenario_id
            and stock_movements.lot_id = touched_lots.lot_id
    ) as moved on true

),

final as (

    select
        {{ surrogate_key(['lot_outflows.scenario_id', 'lot_outflows.lot_id']) }} as emptied_lot_key,
        lot_outflows.scenario_id,
        lot_outflows.lot_id,
        lot_outflows.material_id,
        lot_outflows.received_quantity,
        lot_outflows.last_left_at as emptied_at,
        lot_outflows.last_loaded_at,
        scenario_loads.scenario_load_id
    from lot_outflows
    left join scenario_loads
        on lot_outflows.scenario_id = scenario_loads.scenario_id
    where lot_outflows.left_quantity >= lot_outflows.received_quantity

)

select * from final
