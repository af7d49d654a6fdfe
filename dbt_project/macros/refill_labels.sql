{#- The refill labels that depend on where the data ends (see refill_intervals'
    description). One definition, used by the model and by the post-hook that
    moves the data end of rows not rebuilt in a keyed incremental run. -#}

{% macro duration_days(fill_date, days_to_next_fill, data_end_date) -%}
    coalesce({{ days_to_next_fill }}, {{ dbt.datediff(fill_date, data_end_date, 'day') }})
{%- endmacro %}

{% macro is_lapse(runout_date, next_fill_date, data_end_date) -%}
    case
        when {{ runout_date }} is null then null
        when {{ next_fill_date }} is not null
            then {{ next_fill_date }} > {{ add_days(runout_date, var('lapse_days')) }}
        when {{ data_end_date }} >= {{ add_days(runout_date, var('lapse_days')) }} then true
    end
{%- endmacro %}

{#- Post-hook of refill_intervals: every censored row takes the current data end
    (the labels of the others do not depend on it). A scalar subquery, not
    `update ... from`, which Trino lacks. -#}
{% macro move_data_end() %}
    {%- set data_end -%}(select max(fill_date) from {{ ref('fills') }}){%- endset -%}
    update {{ this }}
    set
        data_end_date = {{ data_end }},
        duration_days = {{ duration_days('fill_date', 'days_to_next_fill', data_end) }},
        is_lapse = {{ is_lapse('runout_date', 'next_fill_date', data_end) }}
    where is_censored
        and data_end_date is distinct from {{ data_end }}
{% endmacro %}
