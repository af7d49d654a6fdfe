{#-
  Keyed incremental builds: the whole-history models (order versions and
  latest orders, latest shipments, deduplicated engagement, fills, refill
  intervals, adherence, active spans) are kept per key (order, rx, shipment,
  event), each key's rows computed from that key's whole history.

  A model remembers the last delivery day it has taken in (its watermark, in
  staging.dbt_watermarks). A run whose partition window starts after that day
  (the nightly increment) deletes and rebuilds only the keys touched by rows
  delivered since then. Any other run (first build, no window, or a window
  that re-runs days already taken in) rebuilds the whole table, so a re-run
  of history can never leave a table half old, half new.

  Model config:
      materialized='incremental', incremental_strategy='append',
      pre_hook="{{ replace_changed_keys('rx_id', changed_rx()) }}",
      post_hook="{{ record_watermark() }}"
  and in its final select: `where {{ is_changed('rx_id') }}`.
-#}

{% macro watermarks_relation() -%}staging.dbt_watermarks{%- endmacro %}

{#- on-run-start: the watermark table exists before any model asks it. No
    primary key: Trino and Athena have none; record_watermark keeps one row
    per model. -#}
{% macro create_watermarks() %}
    create schema if not exists staging;
    create table if not exists {{ watermarks_relation() }} (model {{ dbt.type_string() }}, through date);
{% endmacro %}

{% macro changes_relation() -%}staging.{{ this.identifier }}__changed_keys{%- endmacro %}

{#- Bookkeeping reads raw.* by name, not source(): a source() here would add
    every raw table to every keyed model's lineage. -#}

{#- The delivery days taken in: the latest _dt of the raw tables change sets read. -#}
{% macro raw_through() -%}
    (
        select max(_dt) from (
            select max(_dt) as _dt from raw.rx_orders
            union all select max(_dt) from raw.shipments
            union all select max(_dt) from raw.pets
            union all select max(_dt) from raw.engagement
        ) as delivered
    )
{%- endmacro %}

{#- SQL date literal of this model's watermark ('none' when it has none). -#}
{% macro watermark() %}
    {%- set found = run_query(
        "select cast(max(through) as " ~ dbt.type_string() ~ ") from " ~ watermarks_relation()
        ~ " where model = '" ~ this.identifier ~ "'") -%}
    {%- set value = found.columns[0].values()[0] if found and found.rows else none -%}
    {{ return(value) }}
{% endmacro %}

{#- True when this run rebuilds only the changed keys. -#}
{% macro keyed_incremental_run() %}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set start = partition_window().min_date -%}
    {%- if start is none -%}{{ return(false) }}{%- endif -%}
    {%- set through = watermark() -%}
    {{ return(through is not none and start > through) }}
{% endmacro %}

{#- Rows delivered after the watermark (all rows when there is none). -#}
{% macro delivered_since_watermark() -%}
    {%- set through = watermark() if execute else none -%}
    {%- if through is none -%}true{%- else -%}_dt > date '{{ through }}'{%- endif -%}
{%- endmacro %}

{#- Pre-hook: capture the keys to rebuild, then delete their rows (or all rows). -#}
{% macro replace_changed_keys(key, keys_sql) %}
    {%- if keyed_incremental_run() -%}
        {% call create_scratch_table(changes_relation()) -%}
            select distinct {{ key }} from ({{ keys_sql }}) as changes where {{ key }} is not null
        {%- endcall %}
        delete from {{ this }} where {{ key }} in (select {{ key }} from {{ changes_relation() }});
    {%- elif is_incremental() -%}
        delete from {{ this }};
    {%- endif -%}
{% endmacro %}

{#- A predicate for the model's select: the key is one to rebuild. -#}
{% macro is_changed(key) -%}
    {%- if keyed_incremental_run() -%}
        {{ key }} in (select {{ key }} from {{ changes_relation() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A bookkeeping table made anew from a query (no `create or replace table`
    on PostgreSQL). -#}
{% macro create_scratch_table(relation) %}
    drop table if exists {{ relation }};
    create table {{ relation }} as {{ caller() }};
{% endmacro %}

{#- Post-hook: remember the days taken in (delete and insert: no upsert is
    common to the engines); drop the captured keys. -#}
{% macro record_watermark() %}
    delete from {{ watermarks_relation() }} where model = '{{ this.identifier }}';
    insert into {{ watermarks_relation() }} (model, through) select '{{ this.identifier }}', {{ raw_through() }};
    drop table if exists {{ changes_relation() }};
{% endmacro %}

{#- The change sets: keys touched by rows delivered after the watermark. -#}

{% macro changed_orders() -%}
    select order_id from raw.rx_orders where {{ delivered_since_watermark() }}
{%- endmacro %}

{% macro changed_shipments() -%}
    select shipment_id from raw.shipments where {{ delivered_since_watermark() }}
{%- endmacro %}

{% macro changed_events() -%}
    select event_id from raw.engagement where {{ delivered_since_watermark() }}
{%- endmacro %}

{#- Pets with a new version: their orders may become known, active or inactive. -#}
{% macro changed_pets() -%}
    select pet_id from raw.pets where {{ delivered_since_watermark() }}
{%- endmacro %}

{#- Orders whose fill row may change: new versions, new shipment events, pet news. -#}
{% macro changed_fill_orders() -%}
    {{ changed_orders() }}
    union all
    select order_id from raw.shipments where {{ delivered_since_watermark() }}
    union all
    select order_id from {{ ref('int_rx_orders_latest') }} where pet_id in ({{ changed_pets() }})
{%- endmacro %}

{#- Prescriptions with a new order version or news of their pet. -#}
{% macro changed_rx() -%}
    select rx_id from raw.rx_orders where {{ delivered_since_watermark() }}
    union all
    select rx_id from {{ ref('int_rx_order_versions') }} where pet_id in ({{ changed_pets() }})
{%- endmacro %}
