-- One row per NDC, described by its most recent order.

with orders as (

    select * from {{ ref('int_rx_orders_latest') }}

),

final as (

    -- one hash aggregation, no sort: arg_max over the recency key picks the
    -- most recent order's description (latest updated_at, then delivery)
    select
        ndc,
        arg_max(drug_name, (updated_at, _dt, _file, _line)) as drug_name,
        arg_max(drug_class, (updated_at, _dt, _file, _line)) as drug_class,
        arg_max(is_maintenance, (updated_at, _dt, _file, _line)) as is_maintenance,
        arg_max(drug_class, (updated_at, _dt, _file, _line))
            in {{ seasonal_drug_classes() }} as is_seasonal,
        count(distinct rx_id) as rx_count,
        count(*) filter (where is_fill) as fill_count,
        min(fill_date) filter (where is_fill) as first_fill_date,
        max(fill_date) filter (where is_fill) as last_fill_date

    from orders
    group by ndc

)

select * from final
