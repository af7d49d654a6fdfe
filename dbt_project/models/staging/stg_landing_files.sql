-- The reconciliation of the landing zone: every file under its root, loaded, duplicate,
-- rejected or skipped (with the reason).

select
    extract,
    _dt,
    _file,
    status,
    reason,
    accounted

from {{ source('raw', 'landing_files').include(database=False) }}
