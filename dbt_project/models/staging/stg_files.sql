-- The ingestion ledger: one row per delivered file per load (loaded, duplicate or
-- rejected whole).

select
    extract,
    _dt,
    _file,
    content_hash,
    status,
    rows_loaded,
    rows_quarantined,
    reason

from {{ source('raw', 'files').include(database=False) }}
