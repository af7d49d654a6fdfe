-- Every delivered version of every pet, cleaned, with the span of delivery
-- days during which it was the latest known version (point-in-time: a pet is
-- "reported deceased by D" when the version current on D says so).

with source as (

    select * from {{ source('raw', 'pets') }}

),

cleaned as (

    select
        pet_id,
        customer_id,
        coalesce({{ canonical_species('species') }}, {{ canonical_species('species_raw') }}) as species,
        species_raw,
        breed,
        birth_date,
        weight_kg,
        lower(trim(status)) as status,
        updated_at,
        _dt,
        _file,
        _line

    from source

),

versioned as (

    select
        *,
        {{ version_rank('pet_id', 'updated_at') }} as version_rank,
        min(_dt) over (
            partition by pet_id
            order by updated_at, _dt, _file, _line
            rows between 1 following and unbounded following
        ) as superseded_on,
        min(_dt) over (partition by pet_id) as first_known_dt,
        -- business date the pet was first reported deceased or transferred
        min(case when status in ('deceased', 'transferred') then cast(updated_at as date) end)
            over (partition by pet_id) as inactive_since

    from cleaned

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
        version_rank,
        _dt as valid_from,
        superseded_on as valid_to,
        superseded_on is not null and superseded_on <= _dt as is_never_current,
        first_known_dt,
        inactive_since,
        _dt,
        _file,
        _line

    from versioned

)

select * from final
