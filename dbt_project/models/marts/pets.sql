-- One row per pet (latest version): canonical species, weight in kg, age in
-- years at the last delivery day of the warehouse.

with pets as (

    select * from {{ ref('int_pets_latest') }}

),

final as (

    select
        pet_id,
        customer_id,
        species,
        species_raw,
        species in ('dog', 'cat') as is_in_scope,
        breed,
        birth_date,
        {{ last_delivery_day() }} as age_as_of,
        {{ round_double(fraction(dbt.datediff('birth_date', last_delivery_day(), 'day'), 365.25), 2) }}
            as age_years,
        weight_kg,
        status,
        inactive_since,
        first_known_dt,
        updated_at,
        _dt

    from pets

)

select * from final
