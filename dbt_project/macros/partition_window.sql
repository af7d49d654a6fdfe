{#-
  The partition window of the daily models.

  dbt vars `min_date` / `max_date` (strings YYYY-MM-DD, inclusive) bound the
  days a run (re)builds. Either may be absent or null: that side is then
  unbounded, so with neither the run covers the whole data range.
-#}

{% macro partition_window() %}
    {%- set bounds = {} -%}
    {%- for name in ['min_date', 'max_date'] -%}
        {%- set value = var(name, none) -%}
        {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
            {%- do bounds.update({name: none}) -%}
        {%- else -%}
            {%- set text = value | string | trim -%}
            {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
                {{ exceptions.raise_compiler_error(
                    "dbt var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
            {%- endif -%}
            {%- do bounds.update({name: text}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if bounds.min_date is not none and bounds.max_date is not none
          and bounds.min_date > bounds.max_date -%}
        {{ exceptions.raise_compiler_error(
            "min_date " ~ bounds.min_date ~ " is after max_date " ~ bounds.max_date) }}
    {%- endif -%}
    {{ return(bounds) }}
{% endmacro %}


{#- SQL literal of a window bound, or `fallback` (an SQL expression) when the var is absent. -#}
{% macro window_bound(name, fallback) %}
    {%- set value = partition_window()[name] -%}
    {%- if value is none -%}{{ fallback }}{%- else -%}date '{{ value }}'{%- endif -%}
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

  `delivered_in`: a staging relation with `_dt` and `day_column`; the days of
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
