-- customers: the latest version of each customer. Clear-text PII never
-- reaches the raw zone; only hashes, zip3 and state flow on.

with source as (

    select * from {{ source('raw', 'customers') }}

),

ranked as (

    select
        *,
        {{ version_rank('customer_id', 'updated_at') }} as version_rank

    from source

),

final as (

    select
        customer_id,
        email_hash,
        phone_hash,
        lpad(trim(zip3), 3, '0') as zip3,
        upper(trim(state)) as state,
        marketing_opt_in,
        created_at,
        updated_at,
        _dt,
        _file,
        _line

    from ranked
    where version_rank = 1

)

select * from final
