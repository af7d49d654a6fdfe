-- One row per NDC, described by its most recent order.

with orders as (

    select * from {{ ref('int_rx_orders_latest') }}

),

latest_orders as (

    -- the most recent order per NDC: latest updated_at, then delivery
    select
        ndc,
        drug_name,
        drug_class,
        is_maintenance,
        {{ version_rank('ndc', 'updated_at') }} as recency_rank

    from orders

),

counts as (

    select
        ndc,
        count(distinct rx_id) as rx_count,
        count(*) filter (where is_fill) as fill_count,
        min(fill_date) filter (where is_fill) as first_fill_date,
        max(fill_date) filter (where is_fill) as last_fill_date

    from orders
    group by ndc

),

final as (

    select
        counts.ndc,
        latest_orders.drug_name,
        latest_orders.drug_class,
        latest_orders.is_maintenance,
        latest_orders.drug_class in {{ seasonal_drug_classes() }} as is_seasonal,
        counts.rx_count,
        counts.fill_count,
        counts.first_fill_date,
        counts.last_fill_date

    from counts
    inner join latest_orders
        on counts.ndc = latest_orders.ndc
        and latest_orders.recency_rank = 1

)

select * from final
