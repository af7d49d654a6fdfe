-- The latest version of each reauthorization request (latest updated_at; ties
-- by later delivery day, file, line).

with ranked as (

    select
        *,
        {{ version_rank('reauth_id', 'updated_at') }} as version_rank

    from {{ ref('stg_vet_reauth') }}

)

select
    reauth_id,
    rx_id,
    clinic_id,
    requested_at,
    responded_at,
    status,
    refills_granted,
    expires_on,
    updated_at,
    _dt,
    _file,
    _line

from ranked
where version_rank = 1
