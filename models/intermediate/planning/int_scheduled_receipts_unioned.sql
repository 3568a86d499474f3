{#-
    The receipts the ERP expects (DOMAIN.md §3): purchase orders due from their suppliers and the milk collection
    plan's routes of each day. They are not stock; the shortage report shows which of them would cover an open
    requirement before the order's planned start. One row per scenario and scheduled receipt, known from
    scheduled_at (the order placed, the plan issued) and due at due_at.
-#}

with

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

milk_collection_plans as (

    select * from {{ ref('stg_erp__milk_collection_plans') }}

),

raw_materials as (

    select * from {{ ref('stg_reference__raw_materials') }}

),

purchase_order_receipts as (

    select
        scenario_id,
        purchase_order_id as scheduled_receipt_id,
        'purchase_order' as scheduled_receipt_kind,
        material_id,
        ordered_at as scheduled_at,
        due_at,
        quantity,
        unit
    from purchase_orders

),

collection_plan_receipts as (

    select
        milk_collection_plans.scenario_id,
        'PLAN-' || milk_collection_plans.route_id || '-' || {{ date_yyyymmdd('milk_collection_plans.collection_date') }}
            as scheduled_receipt_id,
        'milk_collection_plan' as scheduled_receipt_kind,
        raw_materials.material_id,
        milk_collection_plans.planned_at as scheduled_at,
        milk_collection_plans.expected_at as due_at,
        milk_collection_plans.planned_l as quantity,
        raw_materials.unit
    from milk_collection_plans
    -- The collection routes bring raw milk, the one material of its category.
    inner join raw_materials
        on raw_materials.category = 'milk'

),

unioned as (

    select * from purchase_order_receipts

    union all

    select * from collection_plan_receipts

),

final as (

    select
        {{ surrogate_key(['scenario_id', 'scheduled_receipt_id']) }} as scheduled_receipt_key,
        *
    from unioned

)

select * from final
