-- rx_orders: every delivered version of every order (an order is re-sent on
-- every change), as ingestion wrote it. Versions, derivations: int_rx_order_versions.

select
    order_id,
    rx_id,
    customer_id,
    pet_id,
    clinic_id,
    ndc,
    drug_name,
    drug_class,
    is_maintenance,
    sig,
    sig_units_per_day,
    qty_prescribed,
    qty_dispensed,
    days_supply,
    refills_authorized,
    refills_remaining,
    channel,
    autoship,
    status,
    order_ts,
    fill_date,
    updated_at,
    _dt,
    _file,
    _line

from {{ source('raw', 'rx_orders').include(database=False) }}
