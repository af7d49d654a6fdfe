{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('event_id', changed_events()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- engagement: one row per event_id (the same event can be delivered twice).

with source as (

    select * from {{ source('raw', 'engagement') }}
    where {{ is_changed('event_id') }}

),

ranked as (

    select
        *,
        {{ version_rank('event_id', 'event_ts') }} as version_rank

    from source

),

final as (

    select
        event_id,
        customer_id,
        lower(trim(channel)) as channel,
        lower(trim(event_type)) as event_type,
        campaign_id,
        event_ts,
        cast(event_ts as date) as event_date,
        _dt,
        _file,
        _line

    from ranked
    where version_rank = 1

)

select * from final
