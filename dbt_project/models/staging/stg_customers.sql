-- customers: every delivered version of every customer. Clear-text PII never
-- reaches the raw zone; only keyed hashes, zip3 and state do.

select
    customer_id,
    email_hash,
    phone_hash,
    zip3,
    state,
    marketing_opt_in,
    created_at,
    updated_at,
    _dt,
    _file,
    _line

from {{ source('raw', 'customers').include(database=False) }}
