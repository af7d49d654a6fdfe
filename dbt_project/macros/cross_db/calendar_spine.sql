{#-
  One row per `datepart` (day, month) from the one holding `first_day` to the
  one holding `last_day`, inclusive: column `period_start`, a date. Either
  bound may be a scalar subquery; a null bound gives no rows.

  No generator is common to the engines (DuckDB's range(), PostgreSQL's
  generate_series(), Trino's sequence()), so the default counts periods with
  dbt.generate_series, whose upper bound must be a constant: 2^16 periods,
  179 years of days, far beyond any span of deliveries.
-#}

{% macro calendar_spine(datepart, first_day, last_day) -%}
    {{ return(adapter.dispatch('calendar_spine')(datepart, first_day, last_day)) }}
{%- endmacro %}

{% macro default__calendar_spine(datepart, first_day, last_day) -%}
    {%- set offset = 'cast(series.generated_number - 1 as ' ~ dbt.type_bigint() ~ ')' -%}
    select period_start
    from (
        select cast({{ dbt.dateadd(datepart, offset, trunc_date(datepart, first_day)) }} as date)
            as period_start
        from ({{ dbt.generate_series(2 ** 16) }}) as series
    ) as periods
    where period_start <= {{ last_day }}
{%- endmacro %}

{#- DuckDB's range() generates exactly the periods asked for. -#}
{% macro duckdb__calendar_spine(datepart, first_day, last_day) -%}
    select cast(range as date) as period_start
    from range(
        {{ trunc_date(datepart, first_day) }},
        {{ trunc_date(datepart, last_day) }} + interval 1 {{ datepart }},
        interval 1 {{ datepart }}
    )
{%- endmacro %}
