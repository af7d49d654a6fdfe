-- One row per reauthorization request (latest version) with the clinic's
-- response delay: the reauthorizations as analysts and the EDA report read
-- them (the dedupe is int_vet_reauths_latest's; see README.md for why this
-- stays a mart of its own).

with reauths as (

    select * from {{ ref('int_vet_reauths_latest') }}

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
        {{ dbt.datediff('requested_at', 'responded_at', 'day') }} as days_to_response,
        updated_at,
        _dt

    from reauths

)

select * from final
