-- One row per snapshot day, warehouse and NDC: a snapshot delivered twice
-- keeps its latest delivery.

{{ latest_versions(ref('stg_inventory'), 'snapshot_date, warehouse_id, ndc') }}
