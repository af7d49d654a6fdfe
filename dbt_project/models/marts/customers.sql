-- One row per customer (latest version). No PII: only hashes of e-mail and
-- phone, the first three ZIP digits and the state.

with customers as (

    select * from {{ ref('int_customers_latest') }}

),

final as (

    select
        customer_id,
        zip3,
        state,
        marketing_opt_in,
        created_at,
        email_hash,
        phone_hash,
        updated_at,
        _dt

    from customers

)

select * from final
