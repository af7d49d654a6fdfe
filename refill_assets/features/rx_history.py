"""CTEs of the feature query: the prescription's fills and its household (``frame``).

Each rx's state (latest fill, interval history) is computed once per day its known
fills change (``rx_timeline``, valid from ``day`` until ``next_day``); a key finds its
rx's state by an equi-join on the rx and a range condition on that span, which
DuckDB runs as a hash join (cheaper than an ASOF join, which sorts both sides with
their payload). Versions are numbered (``v``) and ordered within their rx
(``seq``) once, so the per-day windows sort and carry integers only.
"""

from __future__ import annotations

# a refill more than ON_TIME_DAYS after run-out is late (as in marts.adherence_monthly)
from refill_assets.contract.rules import ACTIVE_LOOKBACK_DAYS, ON_TIME_DAYS

RX_CTES = f"""
fill_versions as materialized (
    -- each order version that is a fill, over the days D it is the version
    -- known on D and its fill date is <= D; seq orders an rx's fills as (fill
    -- date, order time, order id) do (versions of one order are never known together)
    select
        row_number() over () as v,
        rx_id, order_id, pet_id, customer_id, clinic_id, ndc, drug_class, is_maintenance,
        channel, autoship, status = 'partial' as is_partial, days_supply, sig_units_per_day,
        refills_remaining, fill_date,
        dense_rank() over (partition by rx_id order by fill_date, order_ts, order_id) as seq,
        greatest(valid_from, fill_date) as known_from,
        coalesce(valid_to, date '9999-12-31') as known_until
    from intermediate.int_rx_order_versions
    where is_fill and greatest(valid_from, fill_date) < coalesce(valid_to, date '9999-12-31')
),

rx_days as (
    -- the days on which the fills known of an rx change: its state changes only there
    select rx_id, known_from as day from fill_versions
    union
    select rx_id, known_until from fill_versions
    where known_until <= (select max(as_of_date) from _feature_keys)
),

rx_day_fills as (
    -- the fills of the rx known on the day, oldest first (none: one row of nulls)
    select
        d.rx_id, d.day, f.v,
        count(*) over (partition by d.rx_id, d.day) - row_number() over w + 1 as back,
        date_diff('day', lag(f.fill_date) over w, f.fill_date) as interval_days,
        lag(f.days_supply) over w as prev_days_supply
    from rx_days as d
    left join fill_versions as f
        on f.rx_id = d.rx_id and f.known_from <= d.day and d.day < f.known_until
    window w as (partition by d.rx_id, d.day order by f.seq)
),

rx_history as (
    -- the interval history of each rx on each change day; v: its latest fill
    select
        rx_id, day,
        max(v) filter (back = 1) as v,
        count(v) as rx_fill_count,
        count(interval_days) as rx_interval_count,
        avg(interval_days) as rx_interval_mean,
        stddev_samp(interval_days) as rx_interval_std,
        max(interval_days) filter (back = 1) as rx_interval_last,
        max(interval_days) filter (back = 2) as rx_interval_last2,
        max(interval_days) filter (back = 3) as rx_interval_last3,
        avg(interval_days / nullif(prev_days_supply, 0)) as rx_gap_ratio_mean,
        max(interval_days / nullif(prev_days_supply, 0)) filter (back = 1) as rx_gap_ratio_last,
        -- a forgotten refill moves the mean far; the median stays at the owner's pace
        median(interval_days / nullif(prev_days_supply, 0)) as rx_gap_ratio_median,
        avg(cast(interval_days < prev_days_supply as int)) as rx_early_share,
        avg(cast(interval_days > prev_days_supply + {ON_TIME_DAYS} as int))
            as rx_late_share,
        -- sums, so the pet's and the customer's totals add up over their rx
        count(interval_days / nullif(prev_days_supply, 0)) as ratio_n,
        sum(interval_days / nullif(prev_days_supply, 0)) as ratio_sum,
        sum((interval_days / nullif(prev_days_supply, 0)) ** 2) as ratio_sumsq,
        sum(cast(interval_days > prev_days_supply + {ON_TIME_DAYS} as int)) as late_n,
        sum(interval_days / nullif(prev_days_supply, 0))
            filter (interval_days <= prev_days_supply + {ON_TIME_DAYS}) as ontime_sum
    from rx_day_fills
    group by rx_id, day
),

rx_timeline as materialized (
    -- the state of each rx on the days [day, next_day)
    select
        h.* exclude (v),
        lead(h.day, 1, date '9999-12-31') over (partition by h.rx_id order by h.day)
            as next_day,
        f.order_id as last_order_id,
        f.fill_date as last_fill_date,
        f.pet_id, f.customer_id, f.clinic_id, f.ndc, f.drug_class, f.is_maintenance,
        f.channel, f.autoship,
        f.is_partial as last_fill_partial,
        f.days_supply as last_days_supply,
        f.sig_units_per_day as last_units_per_day,
        f.refills_remaining
    from rx_history as h
    left join fill_versions as f on f.v = h.v
),

rx_state as materialized (
    -- each key with the state of its rx on D (nulls before its first known fill)
    select k._k, k.rx_id, k.as_of_date, k.d30, k.d90, t.* exclude (rx_id, day, next_day)
    from _feature_keys as k
    left join rx_timeline as t
        on t.rx_id = k.rx_id and t.day <= k.as_of_date and k.as_of_date < t.next_day
),

customer_rx as (
    select distinct customer_id, rx_id from fill_versions where is_maintenance
),

household as (
    -- the customer's maintenance rx in their state on D (the pet's among them)
    select
        h._k,
        sum(t.rx_interval_count) filter (t.pet_id = h.pet_id) as pet_interval_count,
        sum(t.ratio_n) filter (t.pet_id = h.pet_id) as ratio_n,
        sum(t.ratio_sum) filter (t.pet_id = h.pet_id) as ratio_sum,
        sum(t.ratio_sumsq) filter (t.pet_id = h.pet_id) as ratio_sumsq,
        sum(t.late_n) filter (t.pet_id = h.pet_id) as late_n,
        sum(t.ontime_sum) filter (t.pet_id = h.pet_id) as ontime_sum,
        sum(t.ratio_n) as customer_ratio_n,
        sum(t.ratio_sum) as customer_ratio_sum,
        sum(t.late_n) as customer_late_n,
        -- active in the contract's sense: a fill in (D - 180, D] known on D
        count(*) filter (
            t.pet_id = h.pet_id and t.last_fill_date > h.as_of_date - {ACTIVE_LOOKBACK_DAYS}
        ) as pet_recent_rx,
        count(*) filter (
            t.last_fill_date > h.as_of_date - {ACTIVE_LOOKBACK_DAYS}
        ) as customer_active_rx,
        -- a returning owner: other rx filled after this one's latest fill
        count(*) filter (
            t.rx_id <> h.key_rx_id and t.last_fill_date > h.key_last_fill_date
        ) as customer_rx_filled_since,
        max(t.last_fill_date) as customer_last_fill_date
    from (
        select s._k, s.as_of_date, s.pet_id, s.customer_id, c.rx_id,
            s.rx_id as key_rx_id, s.last_fill_date as key_last_fill_date
        from rx_state as s
        inner join customer_rx as c on c.customer_id = s.customer_id
    ) as h
    inner join rx_timeline as t
        on t.rx_id = h.rx_id and t.day <= h.as_of_date and h.as_of_date < t.next_day
    where t.customer_id = h.customer_id and t.is_maintenance
    group by h._k
)
"""
