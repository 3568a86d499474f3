-- Raw milk must be processed within 48 h of its reception (DOMAIN.md §1, §2): no issue to an order, and no spot
-- sale or discard of a leftover, after the lot's 48 h mark. Returns the offending issues and movements.

with

milk_dispositions as (

    select * from {{ ref('fct_milk_dispositions') }}

),

final as (

    select
        scenario_id,
        lot_id,
        received_at,
        last_consumed_at,
        disposed_at
    from milk_dispositions
    where
        last_consumed_at > received_at + interval '48 hours'
        or disposed_at > received_at + interval '48 hours'

)

select * from final
