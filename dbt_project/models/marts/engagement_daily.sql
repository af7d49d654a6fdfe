{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ delete_partition_window('event_date', ref('int_engagement_deduped')) }}",
    )
}}

{%- set channels = ['email', 'sms'] -%}
{%- set event_types = ['sent', 'delivered', 'open', 'click', 'unsubscribe', 'bounce'] -%}

-- Per customer and event day (UTC): messaging events counted per channel and
-- event type. A run rebuilds the event days of the window and the event days
-- of rows delivered in it (late rows land in the day they happened).

with events as (

    select * from {{ ref('int_engagement_deduped') }}

),

days_to_build as (

    select distinct event_date
    from events
    where {{ in_partition_window('event_date') }}
        or {{ in_partition_window('_dt') }}

),

final as (

    select
        events.customer_id,
        events.event_date,
        count(*) as events_total,
        {%- for channel in channels %}
        {%- for event_type in event_types %}
        count(*) filter (
            where events.channel = '{{ channel }}' and events.event_type = '{{ event_type }}'
        ) as {{ channel }}_{{ event_type }},
        {%- endfor %}
        {%- endfor %}
        count(distinct events.campaign_id) as campaigns

    from events
    where exists (select 1 from days_to_build where days_to_build.event_date = events.event_date)
    group by events.customer_id, events.event_date

)

select * from final
