-- The latest version of each customer (latest updated_at; ties by later
-- delivery day, file, line).

select *
from {{ ref('stg_customers') }}
qualify {{ version_rank('customer_id', 'updated_at') }} = 1
