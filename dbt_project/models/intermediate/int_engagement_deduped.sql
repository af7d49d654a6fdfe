{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('event_id', changed_events()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- One row per messaging event (the same event_id can be delivered twice: the
-- latest delivery wins), with its UTC calendar day.

with events as (

    select * from {{ ref('stg_engagement') }}
    where {{ is_changed('event_id') }}

),

ranked as (

    select
        *,
        {{ version_rank('event_id', 'event_ts') }} as version_rank

    from events

),

final as (

    select
        {{ star(ref('stg_engagement')) }},
        cast(event_ts as date) as event_date

    from ranked
    where version_rank = 1

)

select * from final
