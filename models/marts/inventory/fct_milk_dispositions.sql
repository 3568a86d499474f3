{#-
    Where every litre of raw milk received went (DOMAIN.md §2 mass balance, §4 milk disposition): one row per
    scenario and milk lot, its litres split into consumed by orders, sold spot, discarded and on hand.

    - a delivery refused at reception (qc_status 'rejected') is discarded whole at its reception;
    - a released lot is consumed by orders within its 48 h; what is left is sold spot ("leite spot") or, unsold,
      discarded at the daily review before its 48 h mark (stg_erp__stock_movements);
    - on hand: what is left of a lot still usable after the data's last day (its expiry date lies beyond it); a
      lot whose life ended inside the data has nothing on hand, so a litre without a record shows as a gap
      (tests/marts/assert_stock_lots_balance_received_against_their_records.sql).
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

capacity_calendar as (

    select * from {{ ref('stg_erp__capacity_calendar') }}

),

-- The last simulated day per scenario (the capacity calendar has every simulated day).
data_horizons as (

    select
        scenario_id,
        max(calendar_date) as data_last_date
    from capacity_calendar
    group by scenario_id

),

milk_lots as (

    select * from stock_lots
    where material_id = 'MILK'

),

lot_consumptions as (

    select
        scenario_id,
        lot_id,
        sum(quantity) as consumed_l,
        max(consumed_at) as last_consumed_at
    from material_consumptions
    where material_id = 'MILK'
    group by scenario_id, lot_id

),

lot_movements as (

    select
        scenario_id,
        lot_id,
        coalesce(sum(quantity) filter (where is_spot_sale), 0) as sold_spot_l,
        coalesce(sum(quantity) filter (where not is_spot_sale), 0) as discarded_l,
        coalesce(sum(sale_value_brl) filter (where is_spot_sale), 0) as spot_sale_value_brl,
        max(moved_at) as disposed_at
    from stock_movements
    where material_id = 'MILK'
    group by scenario_id, lot_id

),

lot_flows as (

    select
        milk_lots.scenario_id,
        milk_lots.lot_id,
        milk_lots.supplier_name,
        milk_lots.received_at,
        milk_lots.expires_at,
        milk_lots.qc_status,
        milk_lots.cbt_thousand_cfu_per_ml,
        milk_lots.quantity as received_l,
        coalesce(lot_consumptions.consumed_l, 0) as consumed_l,
        coalesce(lot_movements.sold_spot_l, 0) as sold_spot_l,
        coalesce(lot_movements.discarded_l, 0) as discarded_l,
        coalesce(lot_movements.spot_sale_value_brl, 0) as spot_sale_value_brl,
        lot_consumptions.last_consumed_at,
        lot_movements.disposed_at,
        data_horizons.data_last_date
    from milk_lots
    inner join data_horizons
        on milk_lots.scenario_id = data_horizons.scenario_id
    left join lot_consumptions
        on
            milk_lots.scenario_id = lot_consumptions.scenario_id
            and milk_lots.lot_id = lot_consumptions.lot_id
    left join lot_movements
        on
            milk_lots.scenario_id = lot_movements.scenario_id
            and milk_lots.lot_id = lot_movements.lot_id

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'lot_id']) }} as milk_disposition_key,
        scenario_id,
        lot_id,
        supplier_name,
        received_at,
        cast(received_at as date) as received_date,
        expires_at,
        qc_status = 'rejected' as is_refused_at_reception,
        cbt_thousand_cfu_per_ml,
        received_l,
        consumed_l,
        sold_spot_l,
        discarded_l,
        case
            when expires_at > data_last_date + interval '1 day' then received_l - consumed_l - sold_spot_l - discarded_l
            else 0
        end as on_hand_l,
        spot_sale_value_brl,
        last_consumed_at,
        disposed_at,
        data_last_date
    from lot_flows

)

select * from final
