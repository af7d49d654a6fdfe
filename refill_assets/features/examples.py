"""Training examples (point-in-time snapshots with labels) and scoring rows.

Both get their features from ``feature_frame``, so a model sees at training
exactly what it will see at scoring. Labels look into the future (the final
truth of marts.refill_intervals); features never do.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from refill_assets.contract.rules import ACTIVE_LOOKBACK_DAYS, HORIZON_DAYS, LAPSE_GRACE_DAYS
from refill_assets.features.frame import feature_frame

# a pseudo-random draw per (fill, seed, sample): DuckDB's hash of them, modulo a prime
_MOD = 1_000_003

SAMPLE_SQL = f"""
with

data_end as (
    -- observation ends at the last fill date in the warehouse (as in refill_intervals)
    select max(data_end_date) as data_end from marts.refill_intervals
),

windows as (
    -- the days on which this fill is the latest known one: from its delivery,
    -- before the next fill is known (and not after it happened), while the rx is
    -- active, up to the data end
    select
        i.order_id, i.rx_id, i.pet_id, i.customer_id, i.fill_date,
        i.effective_days_supply, i.next_fill_date, d.data_end,
        i.known_from as window_start,
        least(
            coalesce(n.known_from, date '9999-12-31'),
            coalesce(i.next_fill_date + 1, date '9999-12-31'),
            i.fill_date + {ACTIVE_LOOKBACK_DAYS},
            d.data_end + 1
        ) as window_end
    from marts.refill_intervals as i
    left join marts.refill_intervals as n on n.order_id = i.next_order_id
    cross join data_end as d
    where i.is_maintenance
),

samples as (
    select distinct
        w.*,
        w.window_start + cast(
            cast(hash(w.order_id, $seed, s.sample) % {_MOD} as bigint)
            * date_diff('day', w.window_start, w.window_end) // {_MOD}
            as integer
        ) as as_of_date
    from windows as w
    cross join range($samples) as s(sample)
    where w.window_start < w.window_end
)

select
    s.rx_id, s.as_of_date, s.order_id, s.pet_id, s.customer_id,
    date_diff('day', s.window_start, s.window_end) as window_days,
    date_diff('day', s.as_of_date, s.next_fill_date) as days_to_refill,
    coalesce(date_diff('day', s.as_of_date, s.next_fill_date) <= $horizon, false) as refilled,
    case
        when date_diff('day', s.as_of_date, s.next_fill_date) <= $horizon
            then date_diff('day', s.as_of_date, s.next_fill_date)
        else least($horizon, date_diff('day', s.as_of_date, s.data_end))
    end as duration_days,
    case
        when s.effective_days_supply is null then null
        when s.next_fill_date is not null
            then s.next_fill_date > s.fill_date + s.effective_days_supply + $lapse
        when s.data_end >= s.fill_date + s.effective_days_supply + $lapse then true
    end as lapse
from samples as s
order by s.rx_id, s.as_of_date
"""

LABELS = ("days_to_refill", "duration_days", "refilled", "lapse")
# the nights its fill is the latest known one: the nightly scoring sees an example's fill that
# many times, a sample of the snapshot once, so it weighs a figure as the nights would
NIGHTS = "window_days"

# the prescriptions active on $d (the contract's definition, as the spans mart holds it)
SCORING_SQL = """
select rx_id, cast($d as date) as as_of_date, pet_id, customer_id
from marts.active_maintenance_rx_spans
where active_from <= $d and $d < active_until
order by rx_id
"""


def training_examples(
    con: duckdb.DuckDBPyConnection,
    *,
    horizon_days: int = HORIZON_DAYS,
    lapse_days: int = LAPSE_GRACE_DAYS,
    samples_per_fill: int = 2,
    seed: int = 0,
) -> pl.DataFrame:
    """Point-in-time snapshots (rx_id, as_of_date) of maintenance prescriptions between
    fills, with their labels, the features of ``feature_frame`` and ``cycle_days``
    (30/60/90 by the last days' supply) for segment reports.

    ``samples_per_fill`` as-of days are drawn per fill, uniformly over its window,
    deterministically from ``seed``.
    """
    sampled = con.execute(
        SAMPLE_SQL,
        {"seed": seed, "samples": samples_per_fill, "horizon": horizon_days, "lapse": lapse_days},
    ).pl()
    features = feature_frame(con, sampled.select("rx_id", "as_of_date"))
    return (
        pl.concat(
            [sampled.select("pet_id", "customer_id", "order_id", *LABELS, NIGHTS), features],
            how="horizontal",
        )
        # the fill the window was drawn for must be the latest fill known that day
        # (a fill delivered out of order would otherwise label the wrong interval)
        .filter(pl.col("last_order_id") == pl.col("order_id"))
        # the population scored: active on the as-of day (the window keeps the fill within
        # 180 days, so this asks that the pet be a living dog or cat as known that day)
        .filter(pl.col("pet_active_rx") >= 1)
        .drop("order_id")
        .with_columns(
            cycle_days=pl.when(pl.col("last_days_supply") <= 45)
            .then(30)
            .when(pl.col("last_days_supply") <= 75)
            .then(60)
            .when(pl.col("last_days_supply").is_not_null())
            .then(90)
        )
        .select(
            "rx_id",
            "as_of_date",
            "pet_id",
            "customer_id",
            *LABELS,
            "cycle_days",
            NIGHTS,
            pl.exclude(
                "rx_id", "as_of_date", "pet_id", "customer_id", *LABELS, "cycle_days", NIGHTS
            ),
        )
    )


def scoring_rows(con: duckdb.DuckDBPyConnection, *days: date) -> pl.DataFrame:
    """One row per active maintenance prescription on each of ``days`` (the contract's
    definition, as marts.active_maintenance_rx_spans holds it) with its pet, customer
    and the features of ``feature_frame``, in day order. One feature build for all the days:
    its cost barely grows with them (a week of a 20k-pet world: 1.5 s, one night 1.0 s)."""
    return with_features(con, active_keys(con, days))


def active_keys(con: duckdb.DuckDBPyConnection, days) -> pl.DataFrame:
    """(rx_id, as_of_date, pet_id, customer_id) of the prescriptions active on each day."""
    frames = [con.execute(SCORING_SQL, {"d": day}).pl() for day in days]
    if not frames:
        raise ValueError("no day to find the active prescriptions of")
    return pl.concat(frames)


def reference_population(
    con: duckdb.DuckDBPyConnection, last: date, nights: int, rows: int, seed: int
) -> pl.DataFrame:
    """A seeded sample of at most ``rows`` of the scoring rows of the ``nights`` days up to
    ``last``: the population the nightly scoring sees, as it was when a model was trained
    (its drift reference, ``models.reference``). Not the training examples: those are drawn
    per fill, the nights hold each active prescription once a day, and history features
    (counts, tenure) grow over the whole span they cover. A week, so that weekday rhythms are
    in; the keys are sampled before the features are built, so it costs one small build."""
    keys = active_keys(con, [last - timedelta(days=i) for i in range(nights)])
    if keys.is_empty():
        raise ValueError(f"no active maintenance prescription in the {nights} nights to {last}")
    if keys.height > rows:
        keys = keys.sample(n=rows, seed=seed)
    return with_features(con, keys)


def with_features(con: duckdb.DuckDBPyConnection, active: pl.DataFrame) -> pl.DataFrame:
    """``active_keys`` rows with the features of ``feature_frame``, keys first."""
    features = feature_frame(con, active.select("rx_id", "as_of_date"))
    return pl.concat([active.select("pet_id", "customer_id"), features], how="horizontal").select(
        "rx_id",
        "as_of_date",
        "pet_id",
        "customer_id",
        pl.exclude("rx_id", "as_of_date", "pet_id", "customer_id"),
    )
