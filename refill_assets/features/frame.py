"""``feature_frame``: the registry's features for (prescription, as-of day) keys.

The single code path of training and scoring. Point in time: a feature for
as-of day D reads only what the warehouse knew at the end of D:

* orders and pets through their version spans (``valid_from <= D < valid_to``
  in intermediate.int_rx_order_versions / int_pet_versions), a fill also only
  from its fill date on;
* every other extract from its staging model (``staging.stg_*``: every
  delivered row with its delivery day, 1:1 with the raw zone), rows delivered
  by D (``_dt <= D``), each row at its first delivery, so a later re-send
  never rewrites the past.

So rows delivered after D can never change a feature of D
(tests/unit/features/test_features_pit.py).
One set-based query, never rx x days, its CTEs by topic in ``rx_history`` (fills,
interval history, household), ``supply`` (shipments, stock, reauthorizations) and
``owner`` (pet, customer, engagement): each rx's state is computed once per day its
known fills change (``rx_timeline``) and keys find theirs by a range join on the
span to the next change; other extracts join keyed on rx, pet, order or customer
within the few rows of that key, or against running totals. Every piece is narrow
and keyed by the key's row number ``_k``; the final select only joins them.
"""

from __future__ import annotations

import duckdb
import polars as pl

from refill_assets.features.holidays import us_holidays
from refill_assets.features.owner import OWNER_CTES
from refill_assets.features.registry import FEATURES
from refill_assets.features.rx_history import RX_CTES
from refill_assets.features.supply import SUPPLY_CTES

CALENDAR_CTES = """
holiday_at as (
    -- the next holiday on or after D
    select d.as_of_date, h.holiday
    from (select distinct as_of_date from _feature_keys) as d
    asof inner join _feature_holidays as h on h.holiday >= d.as_of_date
)
"""

# one row per key of _feature_keys (_k, rx_id, as_of_date, d30, d90): rx_state has
# exactly one, every other CTE at most one per key (or per its lookup columns)
CTES = ",\n\n".join(part.strip() for part in (RX_CTES, SUPPLY_CTES, OWNER_CTES, CALENDAR_CTES))

FEATURE_SQL = f"""
with

{CTES}

select
    s._k,
    s.rx_id,
    s.as_of_date,
    s.last_order_id,
    s.last_fill_date,
    date_diff('day', s.last_fill_date, s.as_of_date) as days_since_last_fill,
    s.last_days_supply,
    date_diff('day', s.as_of_date, s.last_fill_date + s.last_days_supply) as days_supply_remaining,
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
    s.rx_gap_ratio_median,
    s.rx_early_share,
    s.rx_late_share,
    coalesce(hh.pet_interval_count, 0) as pet_interval_count,
    hh.ratio_sum / nullif(hh.ratio_n, 0) as pet_gap_ratio_mean,
    case when hh.ratio_n > 1 then sqrt(greatest(
        (hh.ratio_sumsq - hh.ratio_sum ** 2 / hh.ratio_n) / (hh.ratio_n - 1), 0
    )) end as pet_gap_ratio_std,
    hh.late_n / nullif(hh.ratio_n, 0) as pet_late_share,
    hh.ontime_sum / nullif(hh.ratio_n - hh.late_n, 0) as pet_gap_ratio_ontime,
    coalesce(hh.customer_ratio_n, 0) as customer_interval_count,
    hh.customer_ratio_sum / nullif(hh.customer_ratio_n, 0) as customer_gap_ratio_mean,
    hh.customer_late_n / nullif(hh.customer_ratio_n, 0) as customer_late_share,
    -- the rx's own pace carried forward, else its pet's, its owner's, else on time
    s.last_days_supply * coalesce(
        s.rx_gap_ratio_median,
        hh.ontime_sum / nullif(hh.ratio_n - hh.late_n, 0),
        hh.customer_ratio_sum / nullif(hh.customer_ratio_n, 0),
        1.0
    ) - date_diff('day', s.last_fill_date, s.as_of_date) as paced_days_to_refill,
    date_diff('day', sh.promised_ship_date, coalesce(sh.shipped_date, s.as_of_date))
        as last_ship_delay_days,
    coalesce(sh.backordered, false) as last_ship_backordered,
    inv.backordered as ndc_backordered,
    inv.on_hand_units as ndc_on_hand_units,
    date_diff('day', s.as_of_date, inv.expected_restock_date) as ndc_days_to_restock,
    s.drug_class in ('flea_tick', 'heartworm_prevention') as is_seasonal,
    month(s.as_of_date) as as_of_month,
    date_diff('day', s.as_of_date, h.holiday) as days_to_holiday,
    s.refills_remaining,
    coalesce(ra.reauth_pending, false) as reauth_pending,
    date_diff('day', ra.pending_since, s.as_of_date) as reauth_wait_days,
    cl.lead_days as clinic_reauth_lead_days,
    date_diff('day', s.as_of_date, ra.auth_expires_on) as auth_expires_in_days,
    pn.species,
    pn.weight_kg,
    round(date_diff('day', pn.birth_date, s.as_of_date) / 365.25, 2) as age_years,
    s.drug_class,
    s.channel,
    s.autoship,
    coalesce(e.eng_sent_90d, 0) as eng_sent_90d,
    coalesce(e.eng_open_30d, 0) as eng_open_30d,
    coalesce(e.eng_open_90d, 0) as eng_open_90d,
    coalesce(e.eng_click_30d, 0) as eng_click_30d,
    coalesce(e.eng_click_90d, 0) as eng_click_90d,
    date_diff('day', cf.created_date, s.as_of_date) as customer_tenure_days,
    -- the contract also wants the pet, as known on D, a living dog or cat
    case when pn.in_scope then coalesce(hh.pet_recent_rx, 0) else 0 end as pet_active_rx,
    coalesce(hh.customer_active_rx, 0) as customer_active_rx,
    coalesce(hh.customer_rx_filled_since, 0) as customer_rx_filled_since,
    date_diff('day', hh.customer_last_fill_date, s.as_of_date) as customer_days_since_any_fill

from rx_state as s
left join household as hh on hh._k = s._k
left join shipping as sh on sh._k = s._k
left join reauth as ra on ra._k = s._k
left join pet_now as pn on pn._k = s._k
left join engagement as e on e._k = s._k
left join customer_first as cf
    on cf.customer_id = s.customer_id and cf.known_from <= s.as_of_date
left join inventory_at as inv on inv.ndc = s.ndc and inv.as_of_date = s.as_of_date
left join clinic_at as cl on cl.clinic_id = s.clinic_id and cl.as_of_date = s.as_of_date
left join holiday_at as h on h.as_of_date = s.as_of_date
"""

# the frames feature_frame registers on the connection for FEATURE_SQL (not warehouse relations)
KEYS_FRAME, HOLIDAYS_FRAME = "_feature_keys", "_feature_holidays"

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
    con.register(KEYS_FRAME, keyed.to_arrow())
    con.register(HOLIDAYS_FRAME, holidays.to_arrow())
    try:
        frame = con.execute(FEATURE_SQL).pl()
    finally:
        con.unregister(KEYS_FRAME)
        con.unregister(HOLIDAYS_FRAME)
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
