{#-
  Models land in exactly the schema they configure (`staging`,
  `intermediate`, `marts`, `quarantine`), not dbt's default
  `<target schema>_<custom schema>`.
  Models without a custom schema go to the target schema (`main`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
