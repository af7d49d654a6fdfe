-- vet_reauth: every delivered version of every reauthorization request.

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

from {{ source('raw', 'vet_reauth').include(database=False) }}
