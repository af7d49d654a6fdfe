{#- Fails when the model has any row (for quarantine-like models, usually at severity warn). -#}
{% test has_no_rows(model) %}

select * from {{ model }}

{% endtest %}
