{#-
    The balance of every QC-released stock lot at the end of each day it is in stock, with its flows of the day
    and the reservations it still holds (DOMAIN.md §3-§4). Grain: scenario, lot, day, from the day the lot is
    received to the day it expires (or the data horizon), keeping the days it has stock or a flow.

    - balance at the end of day d = quantity received - everything consumed, sold or discarded from the lot
      through d (stg_erp__stock_movements: milk left over at its last review before the 48 h mark, other
      materials at the end of their expiry day);
    - a lot expires at an instant (expires_at: raw milk 48 h after reception, other lots at midnight after their
      last day); its expiry day is the day that instant falls in (the day before, for midnight): at the end of
      that day what is left without a movement is written off (expired_quantity, 0 when every leftover has its
      movement) and it is no longer on hand;
    - reserved at the end of a day = what orders hold of the lot then, the sum of the reservation's changes
      through that day (int_reservation_changes_applied, DOMAIN.md §3), on the days the lot is on hand (it never
      exceeds the balance: the reservation keeps what is held within what is physically there); at risk, what of
      it orders hold that start after the lot expires (their actual start, or for an order not started yet the
      later of its planned start and the day after the data horizon, the earliest it can still start).
-#}

with

stock_lots as (

    select * from {{ ref('stg_erp__stock_lots') }}

),

material_consumptions as (

    select * from {{ ref('stg_erp__material_consumptions') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

stock_movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

reservation_changes as (

    select * from {{ ref('int_reservation_changes_applied') }}

),

data_horizons as (

    select * from {{ ref('int_scenario_data_spans_dated') }}

),

released_lots as (

    select
        stock_lots.scenario_id,
        stock_lots.lot_id,
        stock_lots.material_id,
        stock_lots.quantity,
        stock_lots.unit,
        cast(stock_lots.received_at as date) as received_date,
        stock_lots.expires_at,
        -- The day the lot expires in; a lot expiring at midnight was usable through the whole day before.
        cast(stock_lots.expires_at - interval '1 microsecond' as date) as expiry_date,
        data_horizons.data_last_date,
        data_horizons.data_horizon_at
    from stock_lots
    inner join data_horizons
        on stock_lots.scenario_id = data_horizons.scenario_id
    where stock_lots.is_qc_released

),

lot_days as (

    select
        released_lots.*,
        cast(lot_day.day_start_at as date) as stock_date
    from released_lots
    cross join lateral generate_series(
        cast(released_lots.received_date as timestamp),
        cast(least(released_lots.expiry_date, released_lots.data_last_date) as timestamp),
        interval '1 day'
    ) as lot_day (day_start_at)

),

daily_consumptions as (

    select
        scenario_id,
        lot_id,
        cast(consumed_at as date) as stock_date,
        sum(quantity) as consumed_quantity
    from material_consumptions
    group by scenario_id, lot_id, cast(consumed_at as date)

),

daily_movements as (

    select
        scenario_id,
        lot_id,
        cast(moved_at as date) as stock_date,
        coalesce(sum(quantity) filter (where is_spot_sale), 0) as sold_quantity,
        coalesce(sum(quantity) filter (where not is_spot_sale), 0) as discarded_quantity
    from stock_movements
    group by scenario_id, lot_id, cast(moved_at as date)

),

lot_day_flows as (

    select
        lot_days.*,
        case when lot_days.stock_date = lot_days.received_date then lot_days.quantity else 0 end
            as received_quantity,
        coalesce(daily_consumptions.consumed_quantity, 0) as consumed_quantity,
        coalesce(daily_movements.sold_quantity, 0) as sold_quantity,
        coalesce(daily_movements.discarded_quantity, 0) as discarded_quantity
    from lot_days
    left join daily_consumptions
        on
            lot_days.scenario_id = daily_consumptions.scenario_id
            and lot_days.lot_id = daily_consumptions.lot_id
            and lot_days.stock_date = daily_consumptions.stock_date
    left join daily_movements
        on
            lot_days.scenario_id = daily_movements.scenario_id
            and lot_days.lot_id = daily_movements.lot_id
            and lot_days.stock_date = daily_movements.stock_date

),

lot_day_balances as (

    select
        *,
        quantity - sum(consumed_quantity + sold_quantity + discarded_quantity) over (
            partition by scenario_id, lot_id
            order by stock_date
            rows between unbounded preceding and current row
        ) as balance_quantity
    from lot_day_flows

),

-- What orders hold of each lot changes with the reservation's events; summed per lot and day, and at risk when
-- the holding order starts after the lot expires (never a cancelled order's: it gives its holds back).
daily_reservation_changes as (

    select
        reservation_changes.scenario_id,
        reservation_changes.lot_id,
        cast(reservation_changes.event_at as date) as stock_date,
        sum(reservation_changes.reserved_change_quantity) as reserved_change_quantity,
        coalesce(
            sum(reservation_changes.reserved_change_quantity) filter (
                where production_orders.cancelled_at is null and released_lots.expires_at < coalesce(
                    production_orders.actual_start_at,
                    greatest(production_orders.planned_start_at, released_lots.data_horizon_at)
                )
            ),
            0
        ) as at_risk_change_quantity
    from reservation_changes
    inner join released_lots
        on
            reservation_changes.scenario_id = released_lots.scenario_id
            and reservation_changes.lot_id = released_lots.lot_id
    inner join production_orders
        on
            reservation_changes.scenario_id = production_orders.scenario_id
            and reservation_changes.order_id = production_orders.order_id
    group by reservation_changes.scenario_id, reservation_changes.lot_id, cast(reservation_changes.event_at as date)

),

lot_day_reservations as (

    select
        lot_days.scenario_id,
        lot_days.lot_id,
        lot_days.stock_date,
        sum(coalesce(daily_reservation_changes.reserved_change_quantity, 0)) over lot_to_date as reserved_quantity,
        sum(coalesce(daily_reservation_changes.at_risk_change_quantity, 0)) over lot_to_date as at_risk_quantity
    from lot_days
    left join daily_reservation_changes
        on
            lot_days.scenario_id = daily_reservation_changes.scenario_id
            and lot_days.lot_id = daily_reservation_changes.lot_id
            and lot_days.stock_date = daily_reservation_changes.stock_date
    window lot_to_date as (
        partition by lot_days.scenario_id, lot_days.lot_id
        order by lot_days.stock_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        {{ surrogate_key([
            'lot_day_balances.scenario_id',
            'lot_day_balances.lot_id',
            'lot_day_balances.stock_date',
        ]) }} as stock_lot_day_key,
        lot_day_balances.scenario_id,
        lot_day_balances.lot_id,
        lot_day_balances.material_id,
        lot_day_balances.stock_date,
        lot_day_balances.expires_at,
        lot_day_balances.expiry_date,
        lot_day_balances.unit,
        lot_day_balances.received_quantity,
        lot_day_balances.consumed_quantity,
        lot_day_balances.sold_quantity,
        lot_day_balances.discarded_quantity,
        case
            when lot_day_balances.stock_date = lot_day_balances.expiry_date
                then lot_day_balances.balance_quantity
            else 0
        end as expired_quantity,
        case
            when lot_day_balances.stock_date < lot_day_balances.expiry_date
                then lot_day_balances.balance_quantity
            else 0
        end as on_hand_quantity,
        case
            when
                lot_day_balances.stock_date < lot_day_balances.expiry_date
                and lot_day_balances.expiry_date <= lot_day_balances.stock_date + 7
                then lot_day_balances.balance_quantity
            else 0
        end as expiring_7d_quantity,
        -- Held at the end of a day the lot is on hand; on its expiry day the reservations end with it.
        case
            when lot_day_balances.stock_date < lot_day_balances.expiry_date
                then lot_day_reservations.reserved_quantity
            else 0
        end as reserved_quantity,
        case
            when lot_day_balances.stock_date < lot_day_balances.expiry_date
                then lot_day_reservations.at_risk_quantity
            else 0
        end as at_risk_quantity
    from lot_day_balances
    inner join lot_day_reservations
        on
            lot_day_balances.scenario_id = lot_day_reservations.scenario_id
            and lot_day_balances.lot_id = lot_day_reservations.lot_id
            and lot_day_balances.stock_date = lot_day_reservations.stock_date
    -- Days after a lot is used up carry nothing.
    where
        lot_day_balances.balance_quantity > 0
        or lot_day_balances.received_quantity > 0
        or lot_day_balances.consumed_quantity > 0
        or lot_day_balances.sold_quantity > 0
        or lot_day_balances.discarded_quantity > 0
        or lot_day_reservations.reserved_quantity > 0

)

select * from final
