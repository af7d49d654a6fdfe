-- pets: every delivered version of every pet (species canonical, species_raw
-- as spelled, weight in kg: ingestion's work).

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
    _line

from {{ source('raw', 'pets').include(database=False) }}
