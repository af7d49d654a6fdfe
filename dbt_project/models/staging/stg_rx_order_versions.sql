{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('order_id', changed_orders()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- Every delivered version of every order, cleaned and derived, with the span
-- of delivery days during which it was the latest known version. Marts use it
-- for point-in-time questions ("as known on D" = the version current on D);
-- stg_rx_orders is its latest version per order.

with source as (

    select * from {{ source('raw', 'rx_orders') }}
    where {{ is_changed('order_id') }}

),

cleaned as (

    select
        order_id,
        rx_id,
        customer_id,
        pet_id,
        clinic_id,
        {{ normalise_ndc('ndc') }} as ndc,
        drug_name,
        lower(trim(drug_class)) as drug_class,
        is_maintenance as is_maintenance_sent,
        sig,
        sig_units_per_day,
        qty_prescribed,
        qty_dispensed,
        days_supply as days_supply_sent,
        refills_authorized,
        refills_remaining,
        {{ normalise_channel('channel') }} as channel,
        autoship,
        lower(trim(status)) as status,
        order_ts,
        coalesce(fill_date, cast(order_ts as date)) as fill_date,
        updated_at,
        _dt,
        _file,
        _line

    from source

),

derived as (

    select
        *,
        -- null is_maintenance: acute classes are not maintenance, all others
        -- (class `other` included) are
        coalesce(
            is_maintenance_sent,
            drug_class not in {{ acute_drug_classes() }}
        ) as is_maintenance,
        -- null days_supply: the dispensed quantity over the daily dose in sig
        coalesce(
            days_supply_sent,
            cast(floor(qty_dispensed / nullif(sig_units_per_day, 0)) as integer)
        ) as days_supply,
        case
            when days_supply_sent is not null then 'sent'
            when qty_dispensed is not null and sig_units_per_day > 0 then 'sig'
        end as days_supply_source,
        status in ('filled', 'partial') as is_fill

    from cleaned

),

versioned as (

    select
        *,
        {{ version_rank('order_id', 'updated_at') }} as version_rank,
        -- first delivery day of any later version: from then on this version
        -- is no longer the latest known (a version can be superseded on the
        -- day it arrives, when a later one was delivered before it)
        min(_dt) over (
            partition by order_id
            order by updated_at, _dt, _file, _line
            rows between 1 following and unbounded following
        ) as superseded_on,
        min(_dt) over (partition by order_id) as first_known_dt,
        min(case when is_fill then _dt end) over (partition by order_id) as fill_known_from

    from derived

),

final as (

    select
        order_id,
        rx_id,
        customer_id,
        pet_id,
        clinic_id,
        ndc,
        drug_name,
        drug_class,
        is_maintenance_sent,
        is_maintenance,
        sig,
        sig_units_per_day,
        qty_prescribed,
        qty_dispensed,
        days_supply_sent,
        days_supply,
        days_supply_source,
        refills_authorized,
        refills_remaining,
        channel,
        autoship,
        status,
        is_fill,
        order_ts,
        fill_date,
        updated_at,
        version_rank,
        _dt as valid_from,
        superseded_on as valid_to,
        superseded_on is not null and superseded_on <= _dt as is_never_current,
        first_known_dt,
        fill_known_from,
        _dt,
        _file,
        _line

    from versioned

)

select * from final
