{#- Cleaning helpers shared by the staging models. Ingestion already normalises
    these; staging repeats it cheaply so a looser producer cannot break marts. -#}

{#- Order channel -> mail | clinic | ecommerce (Mail, E-Commerce, eCommerce, in-clinic...). -#}
{% macro normalise_channel(column) -%}
    case
        when {{ column }} is null then null
        when regexp_replace(lower({{ column }}), '[^a-z]', '', 'g') in ('mail', 'mailorder') then 'mail'
        when regexp_replace(lower({{ column }}), '[^a-z]', '', 'g') in ('clinic', 'inclinic') then 'clinic'
        when regexp_replace(lower({{ column }}), '[^a-z]', '', 'g') in ('ecommerce', 'ecom', 'web', 'online') then 'ecommerce'
        else lower(trim({{ column }}))
    end
{%- endmacro %}

{#- Species spelling -> dog | cat | other (null stays null). -#}
{% macro canonical_species(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        when regexp_replace(lower({{ column }}), '[^a-z0-9]', '', 'g')
            in ('dog', 'dogs', 'canine', 'k9', 'puppy', 'canis') then 'dog'
        when regexp_replace(lower({{ column }}), '[^a-z0-9]', '', 'g')
            in ('cat', 'cats', 'feline', 'kitten', 'kitty', 'felis') then 'cat'
        else 'other'
    end
{%- endmacro %}

{#- NDC: some rows lost leading zeros; left-pad to 11 digits. -#}
{% macro normalise_ndc(column) -%}
    lpad(trim({{ column }}), 11, '0')
{%- endmacro %}

{#- Drug classes as a SQL list, from the vars that carry refill_assets/contract/rules.py:
    acute classes are not maintenance (every other class, `other` included, is). -#}
{% macro acute_drug_classes() -%}
    {{ sql_list(var("acute_drug_classes")) }}
{%- endmacro %}

{% macro seasonal_drug_classes() -%}
    {{ sql_list(var("seasonal_drug_classes")) }}
{%- endmacro %}

{#- A SQL list of strings. Parsing (`dbt parse`, the manifest) runs without the vars; every
    command that executes SQL gets them, and fails on a missing one. -#}
{% macro sql_list(values) -%}
    {%- if execute -%}('{{ values | join("', '") }}'){%- else -%}('')  {%- endif -%}
{%- endmacro %}

{#- Last delivery day seen in the warehouse (orders and pets): "today" of the
    data, used for grace periods and ages. A scalar subquery. -#}
{% macro last_delivery_day() -%}
    (
        select max(_dt)
        from (
            select max(_dt) as _dt from {{ ref('stg_rx_order_versions') }}
            union all
            select max(_dt) as _dt from {{ ref('stg_pet_versions') }}
        )
    )
{%- endmacro %}
