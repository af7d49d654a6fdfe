{#-
  The partition window of the daily models.

  Environment variables REFILL_MIN_DATE / REFILL_MAX_DATE (YYYY-MM-DD,
  inclusive) bound the days a run (re)builds. Either may be absent or empty:
  that side is then unbounded, so with neither the run covers the whole data
  range.

  Why the environment and not --vars: a changed --vars makes dbt re-parse
  the whole project, which every nightly run would pay. The window is read
  only when executing (at parse time it is unbounded), so parsing never
  depends on it and partial parsing holds from one night to the next.
-#}

{% macro partition_window() %}
    {%- set bounds = {'min_date': none, 'max_date': none} -%}
    {%- if not execute -%}{{ return(bounds) }}{%- endif -%}
    {%- for name in ['min_date', 'max_date'] -%}
        {%- set text = env_var('REFILL_' ~ (name | upper), '') | trim -%}
        {%- if text != '' -%}
            {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
                {{ exceptions.raise_compiler_error(
                    "REFILL_" ~ (name | upper) ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
            {%- endif -%}
            {%- do bounds.update({name: text}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if bounds.min_date is not none and bounds.max_date is not none
          and bounds.min_date > bounds.max_date -%}
        {{ exceptions.raise_compiler_error(
            "REFILL_MIN_DATE " ~ bounds.min_date ~ " is after REFILL_MAX_DATE " ~ bounds.max_date) }}
    {%- endif -%}
    {{ return(bounds) }}
{% endmacro %}


{#- A boolean SQL predicate: `day_expr` lies in the partition window. -#}
{% macro in_partition_window(day_expr) %}
    {%- set w = partition_window() -%}
    {%- if w.min_date is none and w.max_date is none -%}
        true
    {%- elif w.max_date is none -%}
        ({{ day_expr }} >= date '{{ w.min_date }}')
    {%- elif w.min_date is none -%}
        ({{ day_expr }} <= date '{{ w.max_date }}')
    {%- else -%}
        ({{ day_expr }} between date '{{ w.min_date }}' and date '{{ w.max_date }}')
    {%- endif -%}
{% endmacro %}


{#-
  Pre-hook of the daily incremental models: on an incremental run, delete
  every day the run is about to rebuild, so that a re-run of a window
  replaces it exactly (idempotent) even when a day now yields no rows.

  `delivered_in`: a relation with `_dt` and `day_column`; the days of
  rows delivered in the window are rebuilt too (late-arriving rows land in
  the day they belong to, not the day they were delivered).
-#}
{% macro delete_partition_window(day_column, delivered_in=none) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_partition_window(day_column) }}
        {%- if delivered_in is not none %}
            or {{ day_column }} in (
                select {{ day_column }} from {{ delivered_in }}
                where {{ in_partition_window('_dt') }}
            )
        {%- endif %}
    {%- endif -%}
{% endmacro %}
