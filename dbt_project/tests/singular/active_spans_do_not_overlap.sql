-- Spans of one prescription never overlap, so the daily view has one row per
-- (as_of_date, rx_id). Returns the offending spans.
select *
from (
    select
        rx_id,
        active_from,
        active_until,
        lead(active_from) over (partition by rx_id order by active_from) as next_from
    from {{ ref('active_maintenance_rx_spans') }}
) as spans
where next_from < active_until
