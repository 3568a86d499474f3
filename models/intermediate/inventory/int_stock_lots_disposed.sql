{#-
    Where the quantity of every stock lot went (DOMAIN.md §2 mass balance): one row per scenario and lot, of every
    material and QC status, with what orders consumed, what was sold (spot milk, whey for feed) or discarded
    (stg_erp__stock_movements) and what is on hand after the data's last day.

    On hand is what is left of a lot still usable after the scenario's last simulated day (it expires after the
    midnight that ends it); a lot whose life ended inside the data has nothing on hand, so a quantity without a
    record shows as a gap (tests/marts/assert_stock_lots_balance_received_against_their_records.sql).
-#}

with

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

data_horizons as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

lot_consumptions as (

    select
        scenario_id,
        lot_id,
        sum(quantity) as consumed_quantity,
        max(consumed_at) as last_consumed_at
    from material_consumptions
    group by scenario_id, lot_id

),

lot_movements as (

    select
        scenario_id,
        lot_id,
        coalesce(sum(quantity) filter (where is_spot_sale), 0) as sold_quantity,
        coalesce(sum(quantity) filter (where not is_spot_sale), 0) as discarded_quantity,
        coalesce(sum(sale_value_brl) filter (where is_spot_sale), 0) as sale_value_brl,
        max(moved_at) as disposed_at
    from stock_movements
    group by scenario_id, lot_id

),

lot_flows as (

    select
        stock_lots.scenario_id,
        stock_lots.lot_id,
        stock_lots.material_id,
        stock_lots.supplier_name,
        stock_lots.received_at,
        stock_lots.expires_at,
        stock_lots.qc_status,
        stock_lots.cbt_thousand_cfu_per_ml,
        stock_lots.unit,
        stock_lots.quantity as received_quantity,
        coalesce(lot_consumptions.consumed_quantity, 0) as consumed_quantity,
        coalesce(lot_movements.sold_quantity, 0) as sold_quantity,
        coalesce(lot_movements.discarded_quantity, 0) as discarded_quantity,
        coalesce(lot_movements.sale_value_brl, 0) as sale_value_brl,
        lot_consumptions.last_consumed_at,
        lot_movements.disposed_at,
        data_horizons.data_last_date,
        stock_lots.expires_at > data_horizons.data_last_date + interval '1 day' as is_usable_after_the_data
    from stock_lots
    inner join data_horizons
        on stock_lots.scenario_id = data_horizons.scenario_id
    left join lot_consumptions
        on
            stock_lots.scenario_id = lot_consumptions.scenario_id
            and stock_lots.lot_id = lot_consumptions.lot_id
    left join lot_movements
        on
            stock_lots.scenario_id = lot_movements.scenario_id
            and stock_lots.lot_id = lot_movements.lot_id

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as lot_disposition_key,
        scenario_id,
        lot_id,
        material_id,
        supplier_name,
        received_at,
        expires_at,
        qc_status,
        cbt_thousand_cfu_per_ml,
        unit,
        received_quantity,
        consumed_quantity,
        sold_quantity,
        discarded_quantity,
        case
            when is_usable_after_the_data
                then received_quantity - consumed_quantity - sold_quantity - discarded_quantity
            else 0
        end as on_hand_quantity,
        sale_value_brl,
        last_consumed_at,
        disposed_at,
        is_usable_after_the_data,
        data_last_date
    from lot_flows

)

select * from final
