-- shipments: every delivered status event of every shipment.

select
    shipment_id,
    order_id,
    warehouse_id,
    carrier,
    promised_ship_date,
    shipped_at,
    delivered_at,
    status,
    event_ts,
    _dt,
    _file,
    _line

from {{ source('raw', 'shipments').include(database=False) }}
