"""``feature_frame``: the registry's features for (prescription, as-of day) keys.

The single code path of training and scoring. Point in time: a feature for
as-of day D reads only what the warehouse knew at the end of D:

* orders and pets through their version spans (``valid_from <= D < valid_to``
  in stg_rx_order_versions / stg_pet_versions), a fill also only from its
  fill date on;
* every other extract from ``raw.*`` rows delivered by D (``_dt <= D``), each
  row at its first delivery, so a later re-send never rewrites the past.

So rows delivered after D can never change a feature of D (tests/test_features_pit.py).
One set-based query, never rx x days: each rx's state (latest fill, interval
history) is computed once per day its known fills change (``rx_timeline``) and
keys find theirs by ASOF join; other extracts join keyed on rx, pet, order or
customer within the few rows of that key, or ASOF against running totals.
"""

from __future__ import annotations

import duckdb
import polars as pl

from refill_assets.features.holidays import us_holidays
from refill_assets.features.registry import FEATURES

# the refill counts as late when it comes more than this many days after run-out
# (the on-time rule of marts.adherence_monthly)
LATE_AFTER_RUNOUT_DAYS = 7
# active maintenance prescription: a fill in (D - 180, D] (contract)
ACTIVE_DAYS = 180

FEATURE_SQL = f"""
with

fill_versions as materialized (
    -- each order version that is a fill, over the days D it is the version
    -- known on D and its fill date is <= D
    select
        rx_id, order_id, pet_id, customer_id, clinic_id, ndc, drug_class, is_maintenance,
        channel, autoship, status = 'partial' as is_partial, days_supply, sig_units_per_day,
        refills_remaining, fill_date, order_ts,
        greatest(valid_from, fill_date) as known_from,
        coalesce(valid_to, date '9999-12-31') as known_until
    from staging.stg_rx_order_versions
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
        d.rx_id, d.day, f.* exclude (rx_id),
        count(*) over (partition by d.rx_id, d.day) - row_number() over w + 1 as back,
        date_diff('day', lag(f.fill_date) over w, f.fill_date) as interval_days,
        lag(f.days_supply) over w as prev_days_supply
    from rx_days as d
    left join fill_versions as f
        on f.rx_id = d.rx_id and f.known_from <= d.day and d.day < f.known_until
    window w as (partition by d.rx_id, d.day order by f.fill_date, f.order_ts, f.order_id)
),

rx_timeline as materialized (
    -- the state of each rx from each change day on; back = 1 is the latest fill
    select
        rx_id, day,
        max(order_id) filter (back = 1) as last_order_id,
        max(fill_date) filter (back = 1) as last_fill_date,
        max(pet_id) filter (back = 1) as pet_id,
        max(customer_id) filter (back = 1) as customer_id,
        max(clinic_id) filter (back = 1) as clinic_id,
        max(ndc) filter (back = 1) as ndc,
        max(drug_class) filter (back = 1) as drug_class,
        max(is_maintenance) filter (back = 1) as is_maintenance,
        max(channel) filter (back = 1) as channel,
        max(autoship) filter (back = 1) as autoship,
        max(is_partial) filter (back = 1) as last_fill_partial,
        max(days_supply) filter (back = 1) as last_days_supply,
        max(sig_units_per_day) filter (back = 1) as last_units_per_day,
        max(refills_remaining) filter (back = 1) as refills_remaining,
        count(order_id) as rx_fill_count,
        count(interval_days) as rx_interval_count,
        avg(interval_days) as rx_interval_mean,
        stddev_samp(interval_days) as rx_interval_std,
        max(interval_days) filter (back = 1) as rx_interval_last,
        max(interval_days) filter (back = 2) as rx_interval_last2,
        max(interval_days) filter (back = 3) as rx_interval_last3,
        avg(interval_days / nullif(prev_days_supply, 0)) as rx_gap_ratio_mean,
        max(interval_days / nullif(prev_days_supply, 0)) filter (back = 1) as rx_gap_ratio_last,
        avg(cast(interval_days < prev_days_supply as int)) as rx_early_share,
        avg(cast(interval_days > prev_days_supply + {LATE_AFTER_RUNOUT_DAYS} as int))
            as rx_late_share,
        -- sums, so the pet's and the customer's totals add up over their rx
        count(interval_days / nullif(prev_days_supply, 0)) as ratio_n,
        sum(interval_days / nullif(prev_days_supply, 0)) as ratio_sum,
        sum((interval_days / nullif(prev_days_supply, 0)) ** 2) as ratio_sumsq,
        sum(cast(interval_days > prev_days_supply + {LATE_AFTER_RUNOUT_DAYS} as int)) as late_n
    from rx_day_fills
    group by rx_id, day
),

rx_state as materialized (
    -- the state of the key's rx on D
    select k._k, k.as_of_date, t.* exclude (rx_id, day)
    from _feature_keys as k
    asof left join rx_timeline as t on t.rx_id = k.rx_id and t.day <= k.as_of_date
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
        -- active in the contract's sense: a fill in (D - 180, D] known on D
        count(*) filter (t.pet_id = h.pet_id and t.last_fill_date > h.as_of_date - {ACTIVE_DAYS})
            as pet_recent_rx,
        count(*) filter (t.last_fill_date > h.as_of_date - {ACTIVE_DAYS}) as customer_active_rx
    from (
        select s._k, s.as_of_date, s.pet_id, s.customer_id, c.rx_id
        from rx_state as s
        inner join customer_rx as c on c.customer_id = s.customer_id
    ) as h
    asof inner join rx_timeline as t on t.rx_id = h.rx_id and t.day <= h.as_of_date
    where t.customer_id = h.customer_id and t.is_maintenance
    group by h._k
),

shipping as (
    -- every event of the latest fill's shipments delivered by D
    select
        s._k,
        min(sh.promised_ship_date) as promised_ship_date,
        -- a shipped event without shipped_at still says it left: date it by the event
        min(coalesce(
            cast(sh.shipped_at as date),
            case when lower(trim(sh.status)) in ('shipped', 'delivered', 'returned', 'lost')
                then cast(sh.event_ts as date) end
        )) as shipped_date,
        bool_or(lower(trim(sh.status)) = 'backordered') as backordered
    from rx_state as s
    inner join raw.shipments as sh
        on sh.order_id = s.last_order_id and sh._dt <= s.as_of_date
    group by s._k
),

inventory_rows as (
    -- a snapshot row at its first delivery (a re-delivery never rewrites the past)
    select ndc, snapshot_date, warehouse_id, on_hand_units, backordered,
        expected_restock_date, _dt
    from raw.inventory
    qualify row_number() over (
        partition by snapshot_date, warehouse_id, ndc order by _dt, _file, _line
    ) = 1
),

inventory_snapshots as (
    -- per NDC and snapshot day over warehouses, known once all its rows are
    select
        ndc, snapshot_date,
        max(_dt) as known_from,
        sum(on_hand_units) as on_hand_units,
        bool_or(backordered) as backordered,
        coalesce(
            min(expected_restock_date) filter (backordered), min(expected_restock_date)
        ) as expected_restock_date
    from inventory_rows
    group by ndc, snapshot_date
),

inventory_known as (
    -- from each delivery day on, the newest snapshot known; an older snapshot
    -- delivered late never replaces a newer one
    select * from inventory_snapshots
    qualify row_number() over (partition by ndc, known_from order by snapshot_date desc) = 1
        and snapshot_date > coalesce(
            max(snapshot_date) over (
                partition by ndc order by known_from
                rows between unbounded preceding and 1 preceding
            ),
            date '0001-01-01'
        )
),

reauth_known as (
    -- the version of each reauthorization of the rx that is the latest delivered by D
    select k._k, lower(trim(r.status)) as status, r.requested_at, r.expires_on
    from _feature_keys as k
    inner join raw.vet_reauth as r on r.rx_id = k.rx_id and r._dt <= k.as_of_date
    qualify row_number() over (
        partition by k._k, r.reauth_id
        order by r.updated_at desc, r._dt desc, r._file desc, r._line desc
    ) = 1
),

reauth as (
    select
        _k,
        bool_or(status = 'pending') as reauth_pending,
        cast(max(requested_at) filter (status = 'pending') as date) as pending_since,
        arg_max(expires_on, requested_at) filter (status = 'approved') as auth_expires_on
    from reauth_known
    group by _k
),

clinic_answers as (
    -- each request at the first delivery of its answer
    select clinic_id, _dt as known_from,
        date_diff('second', requested_at, responded_at) / 86400.0 as lead_days
    from raw.vet_reauth
    where responded_at is not null
    qualify row_number() over (partition by reauth_id order by _dt, updated_at, _file, _line) = 1
),

clinic_lead as (
    -- running mean lead time of each clinic, from each delivery day on
    select clinic_id, known_from,
        sum(sum(lead_days)) over w / sum(count(*)) over w as lead_days
    from clinic_answers
    where clinic_id is not null
    group by clinic_id, known_from
    window w as (partition by clinic_id order by known_from)
),

pet_now as (
    -- the pet's version current on D
    select s._k, p.species, p.weight_kg, p.birth_date,
        p.species in ('dog', 'cat') and p.status not in ('deceased', 'transferred') as in_scope
    from rx_state as s
    inner join staging.stg_pet_versions as p
        on p.pet_id = s.pet_id and p.valid_from <= s.as_of_date
        and s.as_of_date < coalesce(p.valid_to, date '9999-12-31')
    qualify row_number() over (partition by s._k order by p.valid_from desc, p.updated_at desc) = 1
),

customer_first as (
    select customer_id, cast(created_at as date) as created_date, _dt as known_from
    from raw.customers
    qualify row_number() over (partition by customer_id order by _dt, updated_at, _file, _line) = 1
),

key_customers as materialized (
    select distinct customer_id from rx_state
),

engagement_running as materialized (
    -- messages per customer counted on the delivery day of each event's first
    -- delivery, summed up over the days
    select customer_id, day,
        sum(sum(cast(event_type = 'sent' as int))) over w as sent,
        sum(sum(cast(event_type = 'open' as int))) over w as opened,
        sum(sum(cast(event_type = 'click' as int))) over w as clicked
    from (
        select any_value(customer_id) as customer_id,
            any_value(event_type) as event_type,
            min(_dt) as day
        from (
            select event_id, customer_id, lower(trim(event_type)) as event_type, _dt
            from raw.engagement
            where _dt <= (select max(as_of_date) from _feature_keys)
        )
        semi join key_customers using (customer_id)
        where event_type in ('sent', 'open', 'click')
        group by event_id
    )
    group by customer_id, day
    window w as (partition by customer_id order by day)
)

select
    k._k,
    k.rx_id,
    k.as_of_date,
    s.last_order_id,
    s.last_fill_date,
    date_diff('day', s.last_fill_date, k.as_of_date) as days_since_last_fill,
    s.last_days_supply,
    date_diff('day', k.as_of_date, s.last_fill_date + s.last_days_supply) as days_supply_remaining,
    s.last_units_per_day,
    s.last_fill_partial,
    s.rx_fill_count,
    s.rx_interval_count,
    s.rx_interval_mean,
    s.rx_interval_std,
    s.rx_interval_last,
    s.rx_interval_last2,
    s.rx_interval_last3,
    s.rx_gap_ratio_mean,
    s.rx_gap_ratio_last,
    s.rx_early_share,
    s.rx_late_share,
    coalesce(hh.pet_interval_count, 0) as pet_interval_count,
    hh.ratio_sum / nullif(hh.ratio_n, 0) as pet_gap_ratio_mean,
    case when hh.ratio_n > 1 then sqrt(greatest(
        (hh.ratio_sumsq - hh.ratio_sum ** 2 / hh.ratio_n) / (hh.ratio_n - 1), 0
    )) end as pet_gap_ratio_std,
    hh.late_n / nullif(hh.ratio_n, 0) as pet_late_share,
    date_diff('day', sh.promised_ship_date, coalesce(sh.shipped_date, k.as_of_date))
        as last_ship_delay_days,
    coalesce(sh.backordered, false) as last_ship_backordered,
    inv.backordered as ndc_backordered,
    inv.on_hand_units as ndc_on_hand_units,
    date_diff('day', k.as_of_date, inv.expected_restock_date) as ndc_days_to_restock,
    s.drug_class in ('flea_tick', 'heartworm_prevention') as is_seasonal,
    month(k.as_of_date) as as_of_month,
    date_diff('day', k.as_of_date, h.holiday) as days_to_holiday,
    s.refills_remaining,
    coalesce(ra.reauth_pending, false) as reauth_pending,
    date_diff('day', ra.pending_since, k.as_of_date) as reauth_wait_days,
    cl.lead_days as clinic_reauth_lead_days,
    date_diff('day', k.as_of_date, ra.auth_expires_on) as auth_expires_in_days,
    pn.species,
    pn.weight_kg,
    round(date_diff('day', pn.birth_date, k.as_of_date) / 365.25, 2) as age_years,
    s.drug_class,
    s.channel,
    s.autoship,
    coalesce(e0.sent, 0) - coalesce(e90.sent, 0) as eng_sent_90d,
    coalesce(e0.opened, 0) - coalesce(e30.opened, 0) as eng_open_30d,
    coalesce(e0.opened, 0) - coalesce(e90.opened, 0) as eng_open_90d,
    coalesce(e0.clicked, 0) - coalesce(e30.clicked, 0) as eng_click_30d,
    coalesce(e0.clicked, 0) - coalesce(e90.clicked, 0) as eng_click_90d,
    date_diff('day', cf.created_date, k.as_of_date) as customer_tenure_days,
    -- the contract also wants the pet, as known on D, a living dog or cat
    case when pn.in_scope then coalesce(hh.pet_recent_rx, 0) else 0 end as pet_active_rx,
    coalesce(hh.customer_active_rx, 0) as customer_active_rx

from _feature_keys as k
left join rx_state as s on s._k = k._k
left join household as hh on hh._k = k._k
left join shipping as sh on sh._k = k._k
left join reauth as ra on ra._k = k._k
left join pet_now as pn on pn._k = k._k
left join customer_first as cf
    on cf.customer_id = s.customer_id and cf.known_from <= k.as_of_date
asof left join inventory_known as inv on inv.ndc = s.ndc and inv.known_from <= k.as_of_date
asof left join clinic_lead as cl on cl.clinic_id = s.clinic_id and cl.known_from <= k.as_of_date
asof left join engagement_running as e0 on e0.customer_id = s.customer_id and e0.day <= k.as_of_date
asof left join engagement_running as e30 on e30.customer_id = s.customer_id and e30.day <= k.d30
asof left join engagement_running as e90 on e90.customer_id = s.customer_id and e90.day <= k.d90
asof left join _feature_holidays as h on h.holiday >= k.as_of_date
"""

_POLARS_TYPES = {"float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "category": pl.String}
ID_COLUMNS = ("rx_id", "as_of_date", "last_order_id", "last_fill_date")


def feature_frame(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.DataFrame:
    """One row per key (``rx_id``, ``as_of_date``), in the keys' order: the ids, the
    latest fill known on the as-of day (``last_order_id``, ``last_fill_date``, null when
    none is) and every registry feature, typed as the registry says."""
    keyed = keys.select(
        pl.col("rx_id").cast(pl.String), pl.col("as_of_date").cast(pl.Date)
    ).with_row_index("_k")
    keyed = keyed.with_columns(
        d30=pl.col("as_of_date") - pl.duration(days=30),
        d90=pl.col("as_of_date") - pl.duration(days=90),
    )
    years = keyed["as_of_date"].dt.year()
    holidays = us_holidays(years.min() or 2000, years.max() or 2000)
    # DuckDB cannot estimate a registered frame and plans its ASOF joins as nested
    # loops (minutes on a large world) unless told not to; the caller's setting is kept
    (threshold,) = con.execute("select current_setting('asof_loop_join_threshold')").fetchone()
    con.execute("set asof_loop_join_threshold = 0")
    con.register("_feature_keys", keyed.to_arrow())
    con.register("_feature_holidays", holidays.to_arrow())
    try:
        frame = con.execute(FEATURE_SQL).pl()
    finally:
        con.unregister("_feature_keys")
        con.unregister("_feature_holidays")
        con.execute(f"set asof_loop_join_threshold = {int(threshold)}")
    return frame.sort("_k").select(
        pl.col("rx_id"),
        pl.col("as_of_date"),
        pl.col("last_order_id").cast(pl.String),
        pl.col("last_fill_date").cast(pl.Date),
        *(_typed(f.name, f.dtype) for f in FEATURES),
    )


def _typed(name: str, dtype: str) -> pl.Expr:
    column = pl.col(name).cast(_POLARS_TYPES[dtype])
    # parallel aggregation adds floats in varying order: round the last bits away so a
    # snapshot (and its hash) is the same run after run
    return column.round(9) if dtype == "float" else column
