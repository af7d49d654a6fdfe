{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('order_id', changed_orders()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- Every delivered version of every order with its derivations and the span
-- of delivery days during which it was the latest known version. Marts use it
-- for point-in-time questions ("as known on D" = the version current on D);
-- int_rx_orders_latest is its latest version per order.

{%- set sent = ['is_maintenance', 'days_supply', 'fill_date'] %}

with orders as (

    select * from {{ ref('stg_rx_orders') }}
    where {{ is_changed('order_id') }}

),

renamed as (

    -- the values as sent keep their names with a _sent suffix; derived below
    select
        {{ star(ref('stg_rx_orders'), except=sent) }},
        is_maintenance as is_maintenance_sent,
        days_supply as days_supply_sent,
        coalesce(fill_date, cast(order_ts as date)) as fill_date

    from orders

),

derived as (

    select
        *,
        -- null is_maintenance: acute classes are not maintenance, all others
        -- (class `other` included) are
        coalesce(
            is_maintenance_sent,
            drug_class not in {{ acute_drug_classes() }}
        ) as is_maintenance,
        -- null days_supply: the dispensed quantity over the daily dose in sig
        coalesce(
            days_supply_sent,
            cast(floor(qty_dispensed / nullif(sig_units_per_day, 0)) as integer)
        ) as days_supply,
        case
            when days_supply_sent is not null then 'sent'
            when qty_dispensed is not null and sig_units_per_day > 0 then 'sig'
        end as days_supply_source,
        status in ('filled', 'partial') as is_fill

    from renamed

),

versioned as (

    select
        *,
        {{ version_rank('order_id', 'updated_at') }} as version_rank,
        {{ superseded_on('order_id', 'updated_at') }} as superseded_on,
        min(_dt) over (partition by order_id) as first_known_dt,
        min(case when is_fill then _dt end) over (partition by order_id) as fill_known_from

    from derived

),

final as (

    select
        {{ star(ref('stg_rx_orders'), except=sent) }},
        is_maintenance_sent,
        days_supply_sent,
        fill_date,
        is_maintenance,
        days_supply,
        days_supply_source,
        is_fill,
        version_rank,
        first_known_dt,
        fill_known_from,
        {{ version_span_columns() }}

    from versioned

)

select * from final
