-- One row per snapshot day, warehouse and NDC: a snapshot delivered twice
-- keeps its latest delivery.

with ranked as (

    select
        *,
        {{ version_rank('snapshot_date, warehouse_id, ndc') }} as version_rank

    from {{ ref('stg_inventory') }}

)

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

from ranked
where version_rank = 1
