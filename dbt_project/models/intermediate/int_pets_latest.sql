-- The latest version of each pet, with the facts of its whole history
-- (first_known_dt, inactive_since) from int_pet_versions.

select {{ star(ref('int_pet_versions'), except=version_columns()) }}
from {{ ref('int_pet_versions') }}
where version_rank = 1
