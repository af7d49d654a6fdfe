-- inventory: every delivered snapshot row (a snapshot delivered twice is here twice).

select
    snapshot_date,
    warehouse_id,
    ndc,
    on_hand_units,
    backordered,
    expected_restock_date,
    _dt,
    _file,
    _line

from {{ source('raw', 'inventory').include(database=False) }}
