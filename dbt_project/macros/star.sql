{#-
  The columns of `relation` but those named in `except`, comma-separated, in the
  relation's order: `select * exclude (...)` where no engine but DuckDB has it
  (dbt_utils.star's idea; dbt packages cannot be installed offline). The names come
  from the warehouse when the model runs, after its parents are built; when dbt only
  parses, `*`.
-#}
{% macro star(relation, except=[]) -%}
    {%- if not execute -%}*{%- else -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in except -%}{%- do names.append(column.name) -%}{%- endif -%}
        {%- endfor -%}
        {%- if not names -%}
            {{ exceptions.raise_compiler_error("star(): no columns left of " ~ relation) }}
        {%- endif -%}
        {{ names | join(',\n    ') }}
    {%- endif -%}
{%- endmacro %}
