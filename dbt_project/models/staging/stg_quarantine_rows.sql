-- The rows ingestion held back, with the rule each broke.

select
    extract,
    _dt,
    _file,
    _line,
    column_name,
    reason,
    record

from {{ source('quarantine', 'rows').include(database=False) }}
