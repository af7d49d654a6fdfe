-- pets: the latest version of each pet.

with versions as (

    select * from {{ ref('stg_pet_versions') }}

),

final as (

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
        first_known_dt,
        inactive_since,
        _dt,
        _file,
        _line

    from versions
    where version_rank = 1

)

select * from final
