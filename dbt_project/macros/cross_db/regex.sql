{#- True when the whole of `value` matches the regular expression `pattern`
    (a Python string). DuckDB has regexp_full_match and no regexp_like;
    PostgreSQL (15+), Trino, Athena and Spark have regexp_like, which
    matches anywhere, hence the anchors. -#}
{% macro matches_fully(value, pattern) -%}
    {{ return(adapter.dispatch('matches_fully')(value, pattern)) }}
{%- endmacro %}

{% macro default__matches_fully(value, pattern) -%}
    regexp_like({{ value }}, '^({{ pattern }})$')
{%- endmacro %}

{% macro duckdb__matches_fully(value, pattern) -%}
    regexp_full_match({{ value }}, '{{ pattern }}')
{%- endmacro %}
