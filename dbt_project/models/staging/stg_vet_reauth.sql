-- vet_reauth: the latest version of each reauthorization request.

with source as (

    select * from {{ source('raw', 'vet_reauth') }}

),

ranked as (

    select
        *,
        {{ version_rank('reauth_id', 'updated_at') }} as version_rank

    from source

),

final as (

    select
        reauth_id,
        rx_id,
        clinic_id,
        requested_at,
        responded_at,
        lower(trim(status)) as status,
        refills_granted,
        expires_on,
        updated_at,
        _dt,
        _file,
        _line

    from ranked
    where version_rank = 1

)

select * from final
