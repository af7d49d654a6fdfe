-- One row per NDC, described by its most recent order.

with orders as (

    select * from {{ ref('stg_rx_orders') }}

),

latest as (

    select *
    from orders
    qualify row_number() over (
        partition by ndc
        order by updated_at desc, _dt desc, _file desc, _line desc
    ) = 1

),

usage as (

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
        latest.ndc,
        latest.drug_name,
        latest.drug_class,
        latest.is_maintenance,
        latest.drug_class in {{ seasonal_drug_classes() }} as is_seasonal,
        usage.rx_count,
        usage.fill_count,
        usage.first_fill_date,
        usage.last_fill_date

    from latest
    inner join usage
        on latest.ndc = usage.ndc

)

select * from final
