-- One row per snapshot day, warehouse and NDC: a snapshot delivered twice
-- keeps its latest delivery.

select *
from {{ ref('stg_inventory') }}
qualify {{ version_rank('snapshot_date, warehouse_id, ndc') }} = 1
