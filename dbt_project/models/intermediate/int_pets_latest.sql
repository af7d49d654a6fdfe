-- The latest version of each pet, with the facts of its whole history
-- (first_known_dt, inactive_since) from int_pet_versions.

select * exclude (version_rank, valid_from, valid_to, is_never_current)
from {{ ref('int_pet_versions') }}
where version_rank = 1
