{#- The refill labels that depend on where the data ends (see refill_intervals'
    description). One definition, used by the model and by the post-hook that
    moves the data end of rows not rebuilt in a keyed incremental run. -#}

{% macro duration_days(fill_date, days_to_next_fill, data_end_date) -%}
    coalesce({{ days_to_next_fill }}, date_diff('day', {{ fill_date }}, {{ data_end_date }}))
{%- endmacro %}

{% macro is_lapse(runout_date, next_fill_date, data_end_date) -%}
    case
        when {{ runout_date }} is null then null
        when {{ next_fill_date }} is not null
            then {{ next_fill_date }} > {{ runout_date }} + {{ var('lapse_days') }}
        when {{ data_end_date }} >= {{ runout_date }} + {{ var('lapse_days') }} then true
    end
{%- endmacro %}

{#- Post-hook of refill_intervals: every censored row takes the current data end
    (the labels of the others do not depend on it). -#}
{% macro move_data_end() %}
    update {{ this }}
    set
        data_end_date = data_end.data_end_date,
        duration_days = {{ duration_days('fill_date', 'days_to_next_fill', 'data_end.data_end_date') }},
        is_lapse = {{ is_lapse('runout_date', 'next_fill_date', 'data_end.data_end_date') }}
    from (select max(fill_date) as data_end_date from {{ ref('fills') }}) as data_end
    where {{ this }}.is_censored
        and {{ this }}.data_end_date is distinct from data_end.data_end_date
{% endmacro %}
