{#- Fails when more than max_fraction of the rows have the column null. -#}
{% test null_fraction_at_most(model, column_name, max_fraction) %}

select rows_total, rows_null
from (
    select
        count(*) as rows_total,
        count(*) filter (where {{ column_name }} is null) as rows_null
    from {{ model }}
) as counts
where rows_null > {{ max_fraction }} * rows_total

{% endtest %}
