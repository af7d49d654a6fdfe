-- Every delivered version of every pet with the span of delivery days during
-- which it was the latest known version (point-in-time: a pet is "reported
-- deceased by D" when the version current on D says so).

with pets as (

    select * from {{ ref('stg_pets') }}

),

versioned as (

    select
        *,
        {{ version_rank('pet_id', 'updated_at') }} as version_rank,
        {{ superseded_on('pet_id', 'updated_at') }} as superseded_on,
        min(_dt) over (partition by pet_id) as first_known_dt,
        -- business date the pet was first reported deceased or transferred
        min(case when status in ('deceased', 'transferred') then cast(updated_at as date) end)
            over (partition by pet_id) as inactive_since

    from pets

),

final as (

    select
        {{ star(ref('stg_pets')) }},
        version_rank,
        first_known_dt,
        inactive_since,
        {{ version_span_columns() }}

    from versioned

)

select * from final
