-- One row per reauthorization request (latest version).

with reauths as (

    select * from {{ ref('stg_vet_reauth') }}

),

final as (

    select
        reauth_id,
        rx_id,
        clinic_id,
        requested_at,
        responded_at,
        status,
        refills_granted,
        expires_on,
        date_diff('day', requested_at, responded_at) as days_to_response,
        updated_at,
        _dt

    from reauths

)

select * from final
