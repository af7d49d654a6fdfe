{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('shipment_id', changed_shipments()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- The latest event of each shipment (latest event_ts). Facts that later
-- events may omit (shipped_at, delivered_at, promised date) are carried from
-- any event of the shipment, and `was_backordered` remembers a backorder that
-- a later status overwrote.

with events as (

    select * from {{ ref('stg_shipments') }}
    where {{ is_changed('shipment_id') }}

),

ranked as (

    select
        *,
        {{ version_rank('shipment_id', 'event_ts') }} as version_rank,
        max(promised_ship_date) over (partition by shipment_id) as any_promised_ship_date,
        min(shipped_at) over (partition by shipment_id) as first_shipped_at,
        max(delivered_at) over (partition by shipment_id) as last_delivered_at,
        {{ dbt.bool_or("status = 'backordered'") }} over (partition by shipment_id) as was_backordered,
        min(event_ts) over (partition by shipment_id) as first_event_ts

    from events

),

final as (

    select
        shipment_id,
        order_id,
        warehouse_id,
        carrier,
        coalesce(promised_ship_date, any_promised_ship_date) as promised_ship_date,
        coalesce(shipped_at, first_shipped_at) as shipped_at,
        coalesce(delivered_at, last_delivered_at) as delivered_at,
        status,
        was_backordered,
        first_event_ts,
        event_ts,
        _dt,
        _file,
        _line

    from ranked
    where version_rank = 1

)

select * from final
