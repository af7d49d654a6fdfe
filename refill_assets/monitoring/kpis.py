"""The pilot KPIs by arm and month: ``monitoring.pilot_kpis``, ``monitoring.outreach_response``.

Units are the planned contacts (rows of ``monitoring.outreach_assignment``) joined on
(as_of_date, rx_id) to their outcome in ``monitoring.score_outcomes``; both arms are defined
alike (a control row's ``contact_on`` is the day it would have been contacted). Period: the
'YYYY-MM' of the scoring day ``as_of_date``, and 'all' for the whole pilot. Each KPI is a
ratio of sums over units, per arm:

- ``capture_in_window``: of the units whose refill outcome is known (a refill seen, the lapse
  decided, or the row settled), the share refilled 1-14 days after ``contact_on``.
- ``wasted_contact``: of the same units, the share refilled on or before ``contact_on`` (the
  reminder came too late) or lapsed.
- ``on_time_refill``: of the units whose lapse is decided, the share refilled by run-out.
- ``lapse_rate``: of the same units, the share lapsed.
- ``pdc_at_least_80``: the rows of ``marts.adherence_monthly`` (one per rx and month) of the
  contacted pets' maintenance prescriptions, from the month of the pet's first planned
  ``contact_on`` on; the share with ``pdc`` >= 0.8. ``pdc`` is the mart's PQA proportion of
  days covered (overlapping supplies shifted forward, capped at 1, over the rx's measurement
  period in the month). Acute courses are left out: no refill is expected of them. Period: the
  adherence month; the owner of the pet's first planned contact gives arm and cluster.
- ``churn_proxy``: (owner, month) pairs of the owners with a planned contact scored in the
  month who were active (a fill, ``marts.fills``, any rx) in the 90 days before the month's
  start; the share with no fill from the month's start to its end + 90 days. Evaluated at that
  fixed horizon, so months are comparable; a month whose horizon is after ``through`` has no
  row yet. ``marts.fills`` carries the ordering customer (the contract's required
  ``customer_id`` of every order), so no rx -> pet -> customer hop is needed.

Undecided units are left out of a KPI's denominator until they are decided. The rule is the
same for both arms and fixed before looking at them, and a settled month is exact; in the
months still settling, the units decided first are the quick refills (more so in an arm that
refills faster), so read the settled months and 'all' for the pilot's verdict.

Confidence intervals: owners are randomised (``outreach.arms``), and an owner's units are
correlated, so the 95 % CI of treated - control is clustered by owner: the delta method for a
ratio of sums (Deng, Knoblich, Lu 2018), per owner i of an arm y_i, x_i the sums of numerator
and denominator, R = sum y / sum x, Var(R) = sum (y_i - R x_i)^2 / (sum x)^2 * n / (n - 1),
Var(diff) = Var(R_t) + Var(R_c) (independent arms). O(n): DuckDB sums the units per owner,
then y, x, y^2, xy, x^2 per arm, from which polars takes R and sum (y_i - R x_i)^2; no loop
over rows. Rare events need a floor: an arm with no event (a 2 % churn among the 20-odd
control owners of a small world) has a delta-method variance of 0 and a point for an
interval, which excluded 0 in 16 of 20 A/A seeds of a small world. So each arm's variance is
at least the binomial variance of its share with one success and one failure added
(Agresti-Caffo), the variance of independent units: owners whose units are positively
correlated can only widen it. ``bootstrap_difference`` (owners resampled) cross-checks the
delta method in the tests. The CI is
NULL when an arm has fewer than 2 owners; an arm with no unit gives NULL value, difference and
CI (the other arm's value stays), and 0 units and owners.

``cost_per_prediction``: the period's estimated platform cost per score made
(``monitoring.economics``), the same on every KPI row of the period; NULL when no cost was
recorded for it.

Both tables are recomputed whole each night and replaced in one transaction (``write_kpis``):
they are small, and a full recompute is simplest and idempotent.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl

from refill_assets.monitoring.outcomes import OUTCOMES_TABLE
from refill_assets.outreach.arms import CONTROL, TREATED, owner_hash_sql, threshold
from refill_assets.outreach.export import ASSIGNMENT_TABLE
from refill_assets.storage.warehouse import ensure_table, replace_together

KPI_TABLE = "monitoring.pilot_kpis"
RESPONSE_TABLE = "monitoring.outreach_response"
ENGAGEMENT_TABLE = "intermediate.int_engagement_deduped"  # the mart has no campaign_id
KPIS = (
    "capture_in_window", "wasted_contact", "on_time_refill", "lapse_rate",
    "pdc_at_least_80", "churn_proxy",
)  # fmt: skip
METHOD = "delta-method, clustered by owner"
Z95 = 1.959963984540054
KPI_COLUMNS = {
    "period": "VARCHAR", "kpi": "VARCHAR", "treated": "DOUBLE", "control": "DOUBLE",
    "difference": "DOUBLE", "ci_low": "DOUBLE", "ci_high": "DOUBLE",
    "treated_units": "BIGINT", "control_units": "BIGINT",
    "treated_owners": "BIGINT", "control_owners": "BIGINT", "method": "VARCHAR",
    "cost_per_prediction": "DOUBLE",  # the period's, from monitoring.economics
    "through": "DATE",
}  # fmt: skip
RESPONSE_COLUMNS = {
    "period": "VARCHAR", "channel": "VARCHAR",
    "contacts": "BIGINT", "opened": "BIGINT", "clicked": "BIGINT",
    "contacts_due": "BIGINT",  # contacts whose 14 days have passed by `through`
    "ordered_14d": "BIGINT",  # of contacts_due: a fill of one of its rx 1-14 days after
    "open_rate": "DOUBLE", "click_rate": "DOUBLE", "order_rate": "DOUBLE",
    "control_contacts_due": "BIGINT", "control_order_rate": "DOUBLE", "through": "DATE",
}  # fmt: skip
_POLARS = {"VARCHAR": pl.String, "DOUBLE": pl.Float64, "BIGINT": pl.Int64, "DATE": pl.Date}

# the planned contacts of both arms; $seed null: the recorded arm, else redrawn (A/A)
_ASSIGNED = f"""
assigned as (
    select * from (
        select as_of_date, contact_on, customer_id, pet_id, rx_id, campaign_id, channel,
            case when $seed is null then arm
                when {owner_hash_sql("customer_id", "$seed")} < $threshold then '{CONTROL}'
                else '{TREATED}' end as arm
        from {ASSIGNMENT_TABLE}
    ) where arm in ('{TREATED}', '{CONTROL}')
)"""

# per (kpi, period, arm): the sums over owners of y, x, y^2, xy, x^2 (y: the owner's units in
# the numerator, x: in the denominator), and the owners n; 'all' pools the periods
KPI_SQL = f"""
with {_ASSIGNED},
units as (
    select a.customer_id as owner, a.arm, strftime(a.as_of_date, '%Y-%m') as period,
        a.contact_on, o.actual_refill_date as refill, o.lapsed, o.run_out_date,
        o.actual_refill_date is not null or o.lapsed is not null
            or coalesce(o.settled, false) as known
    from assigned as a
    left join {OUTCOMES_TABLE} as o using (as_of_date, rx_id)
),
outcomes as materialized (
    select coalesce(period, 'all') as period, arm, owner,
        count(*) filter (known) as known,
        count(*) filter (known and date_diff('day', contact_on, refill) between 1 and 14)
            as capture_in_window,
        count(*) filter (known and (refill <= contact_on or lapsed)) as wasted_contact,
        count(lapsed) as decided,
        count(*) filter (lapsed is not null and refill <= run_out_date) as on_time_refill,
        count(*) filter (lapsed) as lapse_rate
    from units group by grouping sets ((period, arm, owner), (arm, owner))
),
pets as (
    select pet_id, arg_min(customer_id, contact_on) as owner, arg_min(arm, contact_on) as arm,
        cast(date_trunc('month', min(contact_on)) as date) as first_month
    from assigned group by pet_id
),
pdc as (
    select coalesce(strftime(h.month_start, '%Y-%m'), 'all') as period, p.arm, p.owner,
        count(*) filter (h.pdc >= 0.8) as y, count(*) as x
    from marts.adherence_monthly as h join pets as p using (pet_id)
    where h.is_maintenance and h.pdc is not null
        and h.month_start >= p.first_month and h.month_start <= $through
    group by grouping sets ((h.month_start, p.arm, p.owner), (p.arm, p.owner))
),
cohort as (
    select distinct customer_id as owner, arm, cast(date_trunc('month', as_of_date) as date) as m
    from assigned
),
churn as (
    -- active: a fill in the 90 days before the month; churned: active, and no fill from the
    -- month's start to its end + 90 days
    select coalesce(strftime(m, '%Y-%m'), 'all') as period, arm, owner,
        count(*) filter (not ordered) as y, count(*) as x
    from (
        select c.owner, c.arm, c.m, bool_or(f.fill_date < c.m) as active,
            bool_or(f.fill_date >= c.m) as ordered
        from cohort as c
        join marts.fills as f on f.customer_id = c.owner
            and f.fill_date between c.m - 90 and least(last_day(c.m) + 90, $through)
        where last_day(c.m) + 90 <= $through
        group by c.owner, c.arm, c.m
    )
    where active
    group by grouping sets ((m, arm, owner), (arm, owner))
),
observed as (
    select 'capture_in_window' as kpi, period, arm, capture_in_window as y, known as x
    from outcomes where known > 0
    union all
    select 'wasted_contact', period, arm, wasted_contact, known from outcomes where known > 0
    union all
    select 'on_time_refill', period, arm, on_time_refill, decided from outcomes where decided > 0
    union all
    select 'lapse_rate', period, arm, lapse_rate, decided from outcomes where decided > 0
    union all
    select 'pdc_at_least_80', period, arm, y, x from pdc
    union all
    select 'churn_proxy', period, arm, y, x from churn
)
select kpi, period, arm, sum(y)::double as sy, sum(x)::double as sx,
    sum(y * y)::double as syy, sum(x * y)::double as sxy, sum(x * x)::double as sxx,
    sum(x) as units, count(*) as n
from observed group by all
"""

# one row per message (campaign, customer): both arms, the control's as planned
RESPONSE_SQL = f"""
with {_ASSIGNED},
ordered as (
    select distinct a.as_of_date, a.rx_id from assigned as a
    join marts.fills as f on f.rx_id = a.rx_id
        and f.fill_date between a.contact_on + 1 and a.contact_on + 14
),
events as (
    select campaign_id, customer_id,
        bool_or(lower(trim(event_type)) = 'open') as opened,
        bool_or(lower(trim(event_type)) = 'click') as clicked
    from {ENGAGEMENT_TABLE} where campaign_id is not null group by all
),
messages as (
    select a.campaign_id, a.customer_id, a.contact_on, any_value(a.channel) as channel,
        any_value(a.arm) as arm, strftime(min(a.as_of_date), '%Y-%m') as period,
        a.contact_on + 14 <= $through as due, bool_or(o.rx_id is not null) as ordered
    from assigned as a left join ordered as o using (as_of_date, rx_id)
    group by a.campaign_id, a.customer_id, a.contact_on
),
counts as (
    select coalesce(period, 'all') as period, channel,
        count(*) filter (arm = '{TREATED}') as contacts,
        count(*) filter (arm = '{TREATED}' and e.opened) as opened,
        count(*) filter (arm = '{TREATED}' and e.clicked) as clicked,
        count(*) filter (arm = '{TREATED}' and due) as contacts_due,
        count(*) filter (arm = '{TREATED}' and due and ordered) as ordered_14d,
        count(*) filter (arm = '{CONTROL}' and due) as control_contacts_due,
        count(*) filter (arm = '{CONTROL}' and due and ordered) as control_ordered
    from messages as m left join events as e using (campaign_id, customer_id)
    group by grouping sets ((period, channel), (channel))
)
select *, opened / nullif(contacts, 0) as open_rate, clicked / nullif(contacts, 0) as click_rate,
    ordered_14d / nullif(contacts_due, 0) as order_rate,
    control_ordered / nullif(control_contacts_due, 0) as control_order_rate,
    cast($through as date) as through
from counts order by period, channel
"""


def _require(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    sql = "select table_schema || '.' || table_name from information_schema.tables"
    found = {name for (name,) in con.execute(sql).fetchall()}
    missing = [t for t in tables if t not in found]
    if missing:
        raise ValueError(f"the pilot KPIs read {', '.join(missing)}: missing in the warehouse")


def _empty(columns: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(schema={c: _POLARS[kind] for c, kind in columns.items()})


def ratio_difference(obs: pl.DataFrame, z: float = Z95) -> pl.DataFrame:
    """Treated - control of a ratio of sums per (kpi, period), CI clustered by owner (delta
    method, module doc). ``obs``: kpi, period, arm, owner, y, x (unit or owner rows)."""
    y, x = pl.col("y"), pl.col("x")
    owners = obs.group_by("kpi", "period", "arm", "owner").agg(y.sum(), x.sum(), units=pl.len())
    sums = owners.group_by("kpi", "period", "arm").agg(
        sy=y.sum(), sx=x.sum(), syy=(y * y).sum(), sxy=(x * y).sum(), sxx=(x * x).sum(),
        units=pl.col("units").sum(), n=pl.len(),
    )  # fmt: skip
    return _difference(sums, z)


def _difference(sums: pl.DataFrame, z: float = Z95) -> pl.DataFrame:
    """The arms' ratios, their difference and its CI from the sums per (kpi, period, arm)."""
    keys = ["kpi", "period"]
    n, sx, r = pl.col("n"), pl.col("sx"), pl.col("sy") / pl.col("sx")
    residual = pl.col("syy") - 2 * r * pl.col("sxy") + r**2 * pl.col("sxx")  # sum (y - R x)^2
    clustered = residual.clip(lower_bound=0) / sx**2 * n / (n - 1)
    # the floor: the binomial variance of the share with one success and one failure added
    # (Agresti-Caffo), as if every unit were its own owner (module doc)
    adjusted = (pl.col("sy") + 1) / (sx + 2)
    floor = adjusted * (1 - adjusted) / sx
    arms = sums.with_columns(r=r, var=pl.when(n >= 2).then(pl.max_horizontal(clustered, floor)))

    def side(name: str) -> pl.DataFrame:
        return arms.filter(pl.col("arm") == name).select(
            *keys, pl.col("r").alias(name), pl.col("var").alias(f"{name}_var"),
            pl.col("units").alias(f"{name}_units"), n.alias(f"{name}_owners"),
        )  # fmt: skip

    both = side(TREATED).join(side(CONTROL), on=keys, how="full", coalesce=True)
    sd = (pl.col(f"{TREATED}_var") + pl.col(f"{CONTROL}_var")).sqrt()
    diff = pl.col(TREATED) - pl.col(CONTROL)
    return both.with_columns(
        pl.col("^.*_(units|owners)$").fill_null(0).cast(pl.Int64),
        difference=diff,
        ci_low=diff - z * sd,
        ci_high=diff + z * sd,
    ).drop(f"{TREATED}_var", f"{CONTROL}_var")


def bootstrap_difference(
    obs: pl.DataFrame, b: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Treated - control of a ratio of sums and its percentile CI, owners resampled within
    each arm (``b`` draws, seeded). ``obs``: arm, owner, y, x. For cross-checking the delta
    method; O(b * owners) memory."""
    rng = np.random.default_rng(seed)
    owners = obs.group_by("arm", "owner").agg(pl.col("y").sum(), pl.col("x").sum())
    ratios = {}
    for name in (TREATED, CONTROL):
        arm = owners.filter(pl.col("arm") == name)
        y, x = arm["y"].to_numpy(), arm["x"].to_numpy()
        draw = rng.integers(0, len(y), size=(b, len(y)))
        ratios[name] = (y.sum() / x.sum(), y[draw].sum(axis=1) / x[draw].sum(axis=1))
    diffs = ratios[TREATED][1] - ratios[CONTROL][1]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(ratios[TREATED][0] - ratios[CONTROL][0]), float(low), float(high)


def _params(through: date, arm_seed: str | None = None, control_share: float = 0.1) -> dict:
    if not isinstance(through, date):
        raise ValueError(f"through must be the data's through date, got {through!r}")
    return {"through": through, "seed": arm_seed, "threshold": threshold(control_share)}


def compute_kpis(
    con: duckdb.DuckDBPyConnection,
    through: date,
    arm_seed: str | None = None,
    control_share: float = 0.10,
) -> pl.DataFrame:
    """The rows of ``KPI_TABLE`` (module doc), as known at ``through`` (the data's last day).

    ``arm_seed``: None reads the recorded ``arm``; a seed redraws the arms from the owners'
    hashes (``outreach.arms``, ``control_share`` in control) instead: an A/A check, where no
    difference is real. No planned contact: an empty frame with the table's schema."""
    _require(con, ASSIGNMENT_TABLE, OUTCOMES_TABLE, "marts.adherence_monthly", "marts.fills")
    sums = con.execute(KPI_SQL, _params(through, arm_seed, control_share)).pl()
    if sums.is_empty():
        return _empty(KPI_COLUMNS)
    rows = _difference(sums).with_columns(
        method=pl.lit(METHOD),
        cost_per_prediction=pl.lit(None, pl.Float64),
        through=pl.lit(through, pl.Date),
        order=pl.col("kpi").replace_strict(KPIS, range(len(KPIS))),
    )
    return rows.sort("order", "period").select(
        pl.col(c).cast(_POLARS[kind]) for c, kind in KPI_COLUMNS.items()
    )


def compute_response(con: duckdb.DuckDBPyConnection, through: date) -> pl.DataFrame:
    """The rows of ``RESPONSE_TABLE``: per period ('YYYY-MM' of the scoring day, and 'all')
    and channel, the treated arm's messages (one per campaign and customer) with their opens
    and clicks (engagement events of that campaign and customer) and orders (a fill of one of
    their rx 1-14 days after ``contact_on``, among the messages whose 14 days have passed by
    ``through``), and the control arm's order rate in the same window of its planned
    contacts, the baseline. No planned contact: an empty frame with the table's schema."""
    _require(con, ASSIGNMENT_TABLE, "marts.fills", ENGAGEMENT_TABLE)
    rows = con.execute(RESPONSE_SQL, _params(through)).pl()
    if rows.is_empty():
        return _empty(RESPONSE_COLUMNS)
    return rows.select(pl.col(c).cast(_POLARS[kind]) for c, kind in RESPONSE_COLUMNS.items())


def write_kpis(
    con: duckdb.DuckDBPyConnection, through: date, costs: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Recompute both tables and replace them whole, together, in one transaction (small
    tables: a full recompute each night is simplest and idempotent); returns the rows.
    ``costs``: ``cost_per_prediction`` by ``period`` (``economics.cost_by_period``)."""
    kpis, response = compute_kpis(con, through), compute_response(con, through)
    if costs is not None:
        kpis = kpis.drop("cost_per_prediction").join(
            costs.select("period", "cost_per_prediction"), on="period", how="left"
        )
        kpis = kpis.select(pl.col(c).cast(_POLARS[kind]) for c, kind in KPI_COLUMNS.items())
    ensure_table(con, KPI_TABLE, KPI_COLUMNS)
    ensure_table(con, RESPONSE_TABLE, RESPONSE_COLUMNS)
    replace_together(con, [(KPI_TABLE, "true", [], kpis), (RESPONSE_TABLE, "true", [], response)])
    return kpis, response
