{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{{ delete_partition_window('as_of_date') }}",
    )
}}

-- One row per active maintenance prescription per day D of the partition
-- window, as known on D (only rows delivered with _dt <= D):
--   * the version of an order current on D is `filled` or `partial`, its drug
--     is maintenance (class `other` counts) and its fill date is in
--     (D - 180 days, D];
--   * the pet, in its version current on D, is a dog or a cat and not
--     deceased or transferred (a pet not yet delivered by D does not qualify).
-- The latest such fill per rx gives last_fill_date / last_days_supply.
-- One set-based query: date spine x order versions, joined on validity spans.

with bounds as (

    select
        coalesce({{ window_bound('min_date', 'cast(null as date)') }}, min(_dt)) as min_date,
        coalesce({{ window_bound('max_date', 'cast(null as date)') }}, max(_dt)) as max_date
    from {{ ref('stg_rx_order_versions') }}

),

spine as (

    select cast(unnest(generate_series(min_date, max_date, interval 1 day)) as date) as as_of_date
    from bounds

),

fill_versions as (

    select
        versions.rx_id,
        versions.order_id,
        versions.pet_id,
        versions.customer_id,
        versions.drug_class,
        versions.fill_date,
        versions.order_ts,
        versions.days_supply,
        versions.valid_from,
        coalesce(versions.valid_to, date '9999-12-31') as valid_until

    from {{ ref('stg_rx_order_versions') }} as versions
    cross join bounds
    where versions.is_fill
        and versions.is_maintenance
        and not versions.is_never_current
        -- can touch the window at all
        and versions.valid_from <= bounds.max_date
        and coalesce(versions.valid_to, date '9999-12-31') > bounds.min_date
        and versions.fill_date + {{ var('active_lookback_days') }} > bounds.min_date

),

pet_versions as (

    select
        pet_id,
        species,
        status,
        valid_from,
        coalesce(valid_to, date '9999-12-31') as valid_until

    from {{ ref('stg_pet_versions') }}
    where not is_never_current

),

known_fills as (

    select
        spine.as_of_date,
        fill_versions.*

    from spine
    inner join fill_versions
        on fill_versions.fill_date <= spine.as_of_date
        and fill_versions.fill_date > spine.as_of_date - {{ var('active_lookback_days') }}
        and fill_versions.valid_from <= spine.as_of_date
        and fill_versions.valid_until > spine.as_of_date

),

latest_fill as (

    select *
    from known_fills
    qualify row_number() over (
        partition by as_of_date, rx_id
        order by fill_date desc, order_ts desc, order_id desc
    ) = 1

),

final as (

    select
        latest_fill.as_of_date,
        latest_fill.rx_id,
        latest_fill.pet_id,
        latest_fill.customer_id,
        latest_fill.drug_class,
        latest_fill.fill_date as last_fill_date,
        latest_fill.days_supply as last_days_supply

    from latest_fill
    inner join pet_versions
        on latest_fill.pet_id = pet_versions.pet_id
        and pet_versions.valid_from <= latest_fill.as_of_date
        and pet_versions.valid_until > latest_fill.as_of_date
    where pet_versions.species in ('dog', 'cat')
        and pet_versions.status not in ('deceased', 'transferred')

)

select * from final
