{#-
  Date arithmetic every engine spells the same way, through dbt's
  cross-database macros. `date + integer` is DuckDB's and PostgreSQL's
  (Trino and Athena reject it), and dbt.dateadd and dbt.date_trunc yield
  timestamps on most engines: these keep a date a date.
-#}

{% macro add_days(day, days) -%}
    cast({{ dbt.dateadd('day', days, day) }} as date)
{%- endmacro %}

{#- The first day of the `datepart` (month, day...) holding `day`. -#}
{% macro trunc_date(datepart, day) -%}
    cast({{ dbt.date_trunc(datepart, day) }} as date)
{%- endmacro %}
