{#-
  Arithmetic whose result type or NULL handling differs between engines.
-#}

{#- An 8-byte float. dbt.type_float() is `float`: 4 bytes on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{% macro postgres__type_double() -%}double precision{%- endmacro %}

{#- A quotient that keeps its fraction. DuckDB's `/` divides integers as
    doubles; PostgreSQL and Trino truncate. -#}
{% macro fraction(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
{%- endmacro %}

{#- A double rounded to `places` decimals, still a double. PostgreSQL rounds
    only numerics to a number of places. -#}
{% macro round_double(value, places) -%}
    {{ return(adapter.dispatch('round_double')(value, places)) }}
{%- endmacro %}

{% macro default__round_double(value, places) -%}
    round({{ value }}, {{ places }})
{%- endmacro %}

{% macro postgres__round_double(value, places) -%}
    cast(round(cast({{ value }} as numeric), {{ places }}) as {{ type_double() }})
{%- endmacro %}

{#- The sum of an integer column, an integer. PostgreSQL sums bigints as
    numeric; DuckDB sums integers as HUGEINT, kept there so that the
    incremental tables of existing warehouses keep their column types
    (on_schema_change='fail'). -#}
{% macro sum_integers(expression) -%}
    {{ return(adapter.dispatch('sum_integers')(expression)) }}
{%- endmacro %}

{% macro default__sum_integers(expression) -%}
    cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__sum_integers(expression) -%}
    sum({{ expression }})
{%- endmacro %}

{#- The least of `values` that are not null (null when all are), as DuckDB's
    and PostgreSQL's least() behave; Trino's least() is null when any value
    is. Each value falls back to another, so a null never wins. -#}
{% macro least_ignoring_nulls(values) -%}
    least(
        {%- for value in values %}
        coalesce({{ ([value] + values | reject('equalto', value) | list) | join(', ') }})
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
