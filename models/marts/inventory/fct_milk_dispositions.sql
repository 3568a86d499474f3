{{
    config(
        indexes=[
            {'columns': ['scenario_id', 'received_date']},
        ],
    )
}}

{#-
    Where every litre of raw milk received went (DOMAIN.md §2 mass balance, §4 milk disposition): one row per
    scenario and milk lot, its litres split into consumed by orders, sold spot, discarded and on hand.

    - a delivery refused at reception (qc_status 'rejected') is discarded whole at its reception;
    - a released lot is consumed by orders within its 48 h; what is left is sold spot ("leite spot") or, unsold,
      discarded at the daily review before its 48 h mark (stg_erp__stock_movements);
    - on hand: what is left of a lot still usable after the data's last day; the flows of every lot are
      int_stock_lots_disposed's, where a litre without a record shows as a gap.
-#}

with

stock_lots_disposed as (

    select * from {{ ref('int_stock_lots_disposed') }}

),

milk_lots as (

    select * from stock_lots_disposed
    where material_id = 'MILK'

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
        received_quantity as received_l,
        consumed_quantity as consumed_l,
        sold_quantity as sold_spot_l,
        discarded_quantity as discarded_l,
        on_hand_quantity as on_hand_l,
        sale_value_brl as spot_sale_value_brl,
        last_consumed_at,
        disposed_at,
        data_last_date
    from milk_lots

)

select * from final
