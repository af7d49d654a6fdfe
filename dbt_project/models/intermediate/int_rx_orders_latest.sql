{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('order_id', changed_orders()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- The latest version of each order (latest updated_at; ties broken by later
-- delivery day, then file, then line): every order column, the version
-- bookkeeping stays in int_rx_order_versions.

select
    order_id,
    rx_id,
    customer_id,
    pet_id,
    clinic_id,
    ndc,
    drug_name,
    drug_class,
    sig,
    sig_units_per_day,
    qty_prescribed,
    qty_dispensed,
    refills_authorized,
    refills_remaining,
    channel,
    autoship,
    status,
    order_ts,
    updated_at,
    _dt,
    _file,
    _line,
    is_maintenance_sent,
    days_supply_sent,
    fill_date,
    is_maintenance,
    days_supply,
    days_supply_source,
    is_fill,
    first_known_dt,
    fill_known_from

from {{ ref('int_rx_order_versions') }}
where version_rank = 1
    and {{ is_changed('order_id') }}
