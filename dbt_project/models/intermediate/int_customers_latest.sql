-- The latest version of each customer (latest updated_at; ties by later
-- delivery day, file, line).

{{ latest_versions(ref('stg_customers'), 'customer_id', 'updated_at') }}
