{#-
  adherence_monthly's nightly increment: besides the rx with news (changed_rx,
  rebuilt whole), the rows of an rx can change only because the data end
  moved, and only while its last fill is still open: its measurement period
  runs to the data end, or the on-time outcome of its last refill is not yet
  observable. Both end by the last fill's lapse deadline (run-out + lapse_days
  >= run-out + on_time_days), so the open rx are those whose last fill's
  lapse deadline is unknown or not before the previous data end E. Of those,
  only the months from that of E - on_time_days on can change (the month of E
  grows; a refill due in an earlier month may become observable).

  The previous data end is read before any row is deleted: the latest
  period_end in the table (a lower bound of E, which only widens the tail).
-#}

{% macro tail_relation() -%}staging.{{ this.identifier }}__open_tail{%- endmacro %}

{#- Pre-hook: the changed rx lose all their rows, the open rx their tail months
    (month_from is one month for all of them). -#}
{% macro replace_changed_rx_and_open_tails() %}
    {%- if keyed_incremental_run() -%}
        {% call create_scratch_table(changes_relation()) -%}
            select distinct rx_id from ({{ changed_rx() }}) as changes where rx_id is not null
        {%- endcall %}
        {% call create_scratch_table(tail_relation()) -%}
            with previous as (select max(period_end) as data_end from {{ this }})
            select
                intervals.rx_id,
                {{ trunc_date('month', add_days('previous.data_end', -var('on_time_days'))) }} as month_from
            from {{ ref('refill_intervals') }} as intervals, previous
            where intervals.is_censored
                and (intervals.lapse_deadline is null or intervals.lapse_deadline >= previous.data_end)
                and intervals.rx_id not in (select rx_id from {{ changes_relation() }})
        {%- endcall %}
        delete from {{ this }} where rx_id in (select rx_id from {{ changes_relation() }});
        delete from {{ this }}
            where rx_id in (select rx_id from {{ tail_relation() }})
                and month_start >= (select min(month_from) from {{ tail_relation() }});
    {%- elif is_incremental() -%}
        delete from {{ this }};
    {%- endif -%}
{% endmacro %}

{#- Predicate on intervals: the rx is rebuilt, whole or its tail. -#}
{% macro is_changed_or_open(key) -%}
    {%- if keyed_incremental_run() -%}
        ({{ key }} in (select rx_id from {{ changes_relation() }})
            or {{ key }} in (select rx_id from {{ tail_relation() }}))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Predicate on the final rows: a changed rx's every month, an open rx's tail. -#}
{% macro is_rebuilt_month(key, month) -%}
    {%- if keyed_incremental_run() -%}
        ({{ key }} in (select rx_id from {{ changes_relation() }})
            or {{ month }} >= (select min(month_from) from {{ tail_relation() }}))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: as record_watermark, and the open tail is dropped too. -#}
{% macro record_watermark_and_drop_tail() %}
    {{ record_watermark() }}
    drop table if exists {{ tail_relation() }};
{% endmacro %}
