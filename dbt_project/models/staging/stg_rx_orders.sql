-- rx_orders: the latest version of each order (latest updated_at; ties broken
-- by later delivery day, then file, then line).

with versions as (

    select * from {{ ref('stg_rx_order_versions') }}

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
        first_known_dt,
        fill_known_from,
        _dt,
        _file,
        _line

    from versions
    where version_rank = 1

)

select * from final
