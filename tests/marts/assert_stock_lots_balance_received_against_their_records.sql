-- Mass balance of every stock lot, of every material and QC status (DOMAIN.md §2: every litre and kilo that
-- enters leaves a record): quantity received = consumed + sold + discarded + on hand, within 0.01 of its unit.
-- On hand is what is left of a lot still usable after the scenario's last simulated day; a lot whose life ended
-- inside the data must have recorded everything. Milk is checked through fct_milk_dispositions (its mart),
-- the other materials through the staging records. Returns the lots that do not close.

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

milk_dispositions as (

    select * from {{ ref('fct_milk_dispositions') }}

),

data_horizons as (

    select
        scenario_id,
        max(calendar_date) as data_last_date
    from capacity_calendar
    group by scenario_id

),

lot_consumptions as (

    select
        scenario_id,
        lot_id,
        sum(quantity) as consumed_quantity
    from material_consumptions
    group by scenario_id, lot_id

),

lot_movements as (

    select
        scenario_id,
        lot_id,
        coalesce(sum(quantity) filter (where is_spot_sale), 0) as sold_quantity,
        coalesce(sum(quantity) filter (where not is_spot_sale), 0) as discarded_quantity
    from stock_movements
    group by scenario_id, lot_id

),

other_lots as (

    select
        stock_lots.scenario_id,
        stock_lots.lot_id,
        stock_lots.material_id,
        stock_lots.quantity as received_quantity,
        coalesce(lot_consumptions.consumed_quantity, 0) as consumed_quantity,
        coalesce(lot_movements.sold_quantity, 0) as sold_quantity,
        coalesce(lot_movements.discarded_quantity, 0) as discarded_quantity,
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
    where stock_lots.material_id != 'MILK'

),

balances as (

    select
        scenario_id,
        lot_id,
        material_id,
        received_quantity,
        consumed_quantity,
        sold_quantity,
        discarded_quantity,
        case
            when is_usable_after_the_data
                then received_quantity - consumed_quantity - sold_quantity - discarded_quantity
            else 0
        end as on_hand_quantity
    from other_lots

    union all

    select
        scenario_id,
        lot_id,
        'MILK' as material_id,
        received_l as received_quantity,
        consumed_l as consumed_quantity,
        sold_spot_l as sold_quantity,
        discarded_l as discarded_quantity,
        on_hand_l as on_hand_quantity
    from milk_dispositions

),

final as (

    select * from balances
    where
        abs(received_quantity - (consumed_quantity + sold_quantity + discarded_quantity + on_hand_quantity)) > 0.01
        or on_hand_quantity < -0.01

)

select * from final
