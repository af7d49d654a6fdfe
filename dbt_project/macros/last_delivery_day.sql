{#- Last delivery day seen in the warehouse (orders and pets): "today" of the
    data, used for grace periods and ages. A scalar subquery. -#}
{% macro last_delivery_day() -%}
    (
        select max(_dt)
        from (
            select max(_dt) as _dt from {{ ref('int_rx_order_versions') }}
            union all
            select max(_dt) as _dt from {{ ref('int_pet_versions') }}
        ) as delivered
    )
{%- endmacro %}
