-- The latest version of each pet, with the facts of its whole history
-- (first_known_dt, inactive_since) from int_pet_versions.

select
    pet_id,
    customer_id,
    species,
    species_raw,
    breed,
    birth_date,
    weight_kg,
    status,
    updated_at,
    _dt,
    _file,
    _line,
    first_known_dt,
    inactive_since

from {{ ref('int_pet_versions') }}
where version_rank = 1
