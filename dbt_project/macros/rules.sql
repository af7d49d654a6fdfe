{#- The business rules that reach SQL as lists. Their one home is
    refill_assets/contract/rules.py; every dbt invocation that runs SQL passes them
    as --vars (contract.rules.dbt_vars), so this project holds no copy of them. -#}

{#- Acute classes are not maintenance (every other class, `other` included, is). -#}
{% macro acute_drug_classes() -%}
    {{ sql_list(var("acute_drug_classes")) }}
{%- endmacro %}

{#- Classes whose use pauses in the cold months. -#}
{% macro seasonal_drug_classes() -%}
    {{ sql_list(var("seasonal_drug_classes")) }}
{%- endmacro %}

{#- A SQL list of strings. Parsing (`dbt parse`, the manifest) runs without the vars; every
    command that executes SQL gets them, and fails on a missing one. -#}
{% macro sql_list(values) -%}
    {%- if execute -%}('{{ values | join("', '") }}'){%- else -%}('')  {%- endif -%}
{%- endmacro %}
