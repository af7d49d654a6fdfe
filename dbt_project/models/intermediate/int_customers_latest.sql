-- The latest version of each customer (latest updated_at; ties by later
-- delivery day, file, line).

with ranked as (

    select
        *,
        {{ version_rank('customer_id', 'updated_at') }} as version_rank

    from {{ ref('stg_customers') }}

)

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

from ranked
where version_rank = 1
