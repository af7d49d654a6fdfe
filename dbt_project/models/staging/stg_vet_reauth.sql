-- vet_reauth: the latest version of each reauthorization request.

with source as (

    select * from {{ source('raw', 'vet_reauth') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by reauth_id
            order by updated_at desc, _dt desc, _file desc, _line desc
        ) as version_rank

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
