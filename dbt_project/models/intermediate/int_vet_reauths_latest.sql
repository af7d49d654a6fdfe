-- The latest version of each reauthorization request (latest updated_at; ties
-- by later delivery day, file, line).

select *
from {{ ref('stg_vet_reauth') }}
qualify {{ version_rank('reauth_id', 'updated_at') }} = 1
