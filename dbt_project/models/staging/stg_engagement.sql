-- engagement: every delivered messaging event (an event delivered twice is here twice).

select
    event_id,
    customer_id,
    channel,
    event_type,
    campaign_id,
    event_ts,
    _dt,
    _file,
    _line

from {{ source('raw', 'engagement').include(database=False) }}
