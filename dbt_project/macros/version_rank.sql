{#-
  The contract's "latest version wins", in one place: rank 1 is the row with
  the latest `version_column` for `key`; ties go to the later delivery day,
  then file, then line (a re-send of the same version: the last one read).
  Without a version column (inventory snapshots) only delivery order counts.
  Nulls sort last, spelled out: DuckDB and Trino sort them last either way,
  PostgreSQL first when descending, Spark first when ascending.
-#}
{% macro version_rank(key, version_column=none) %}
    row_number() over (
        partition by {{ key }}
        order by {% if version_column %}{{ version_column }} desc nulls last, {% endif -%}
            _dt desc nulls last, _file desc nulls last, _line desc nulls last
    )
{%- endmacro %}

{#-
  The version spans of point-in-time models: the first delivery day of any
  later version of `key` (ordered as version_rank orders them, oldest first).
  From then on this version is no longer the latest known; a version can be
  superseded on the day it arrives, when a later one was delivered before it.
  Null while the version is the latest.
-#}
{% macro superseded_on(key, version_column) %}
    min(_dt) over (
        partition by {{ key }}
        order by {{ version_column }} nulls last, _dt nulls last, _file nulls last, _line nulls last
        rows between 1 following and unbounded following
    )
{%- endmacro %}

{#- The latest version of each `key` of `relation`: its rows of version_rank 1, its columns. -#}
{% macro latest_versions(relation, key, version_column=none) %}
    select {{ star(relation) }}
    from (
        select
            *,
            {{ version_rank(key, version_column) }} as version_rank
        from {{ relation }}
    ) as ranked
    where version_rank = 1
{% endmacro %}

{#- The columns of a versions model (int_*_versions) that its latest-version model drops. -#}
{% macro version_columns() %}
    {{ return(['version_rank', 'valid_from', 'valid_to', 'is_never_current']) }}
{% endmacro %}

{#- The span columns of a row with `superseded_on`: known from valid_from (its
    delivery day) until valid_to (exclusive); never current when superseded on
    or before its own delivery day. -#}
{% macro version_span_columns() %}
    _dt as valid_from,
    superseded_on as valid_to,
    superseded_on is not null and superseded_on <= _dt as is_never_current
{%- endmacro %}
