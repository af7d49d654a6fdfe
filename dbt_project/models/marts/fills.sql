{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('order_id', changed_fill_orders()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- One row per effective fill: the latest version of each order is `filled`
-- or `partial` (canceled and pending orders are not fills). Orders whose pet
-- is unknown are left out (see quarantine.orphan_orders). Shipments are
-- joined per order (clinic pick-ups have none).

with orders as (

    select * from {{ ref('int_rx_orders_latest') }}
    where is_fill
        and {{ is_changed('order_id') }}

),

known_pets as (

    select distinct pet_id from {{ ref('int_pet_versions') }}

),

shipments as (

    select
        *,
        row_number() over (
            partition by order_id
            order by first_event_ts desc nulls last, shipment_id desc nulls last
        ) as recency_rank

    from {{ ref('int_shipments_latest') }}
    where {{ is_changed('order_id') }}

),

shipments_per_order as (

    select
        order_id,
        count(*) as shipment_count,
        -- the most recently created shipment speaks for the order
        max(case when recency_rank = 1 then shipment_id end) as shipment_id,
        max(case when recency_rank = 1 then warehouse_id end) as warehouse_id,
        max(case when recency_rank = 1 then carrier end) as carrier,
        max(case when recency_rank = 1 then status end) as shipment_status,
        min(promised_ship_date) as promised_ship_date,
        min(cast(shipped_at as date)) as shipped_date,
        max(cast(delivered_at as date)) as delivered_date,
        {{ dbt.bool_or('was_backordered') }} as is_backordered

    from shipments
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.rx_id,
        orders.customer_id,
        orders.pet_id,
        orders.clinic_id,
        orders.ndc,
        orders.drug_name,
        orders.drug_class,
        orders.is_maintenance,
        orders.drug_class in {{ seasonal_drug_classes() }} as is_seasonal,
        orders.status,
        orders.status = 'partial' as is_partial,
        orders.qty_prescribed,
        orders.qty_dispensed,
        orders.days_supply_sent,
        orders.days_supply as effective_days_supply,
        orders.days_supply_source,
        orders.refills_authorized,
        orders.refills_remaining,
        orders.channel,
        orders.autoship,
        orders.order_ts,
        orders.fill_date,
        orders.fill_known_from as known_from,
        orders.updated_at,
        shipments_per_order.order_id is not null as has_shipment,
        coalesce(shipments_per_order.shipment_count, 0) as shipment_count,
        shipments_per_order.shipment_id,
        shipments_per_order.warehouse_id,
        shipments_per_order.carrier,
        shipments_per_order.shipment_status,
        shipments_per_order.promised_ship_date,
        shipments_per_order.shipped_date,
        shipments_per_order.delivered_date,
        {{ dbt.datediff('shipments_per_order.promised_ship_date', 'shipments_per_order.shipped_date', 'day') }}
            as ship_delay_days,
        {{ dbt.datediff('orders.fill_date', 'shipments_per_order.delivered_date', 'day') }}
            as days_fill_to_delivery,
        coalesce(shipments_per_order.is_backordered, false) as is_backordered,
        orders._dt,
        orders._file,
        orders._line

    from orders
    left join shipments_per_order
        on orders.order_id = shipments_per_order.order_id
    where exists (select 1 from known_pets where known_pets.pet_id = orders.pet_id)

)

select * from final
