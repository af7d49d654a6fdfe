"""A synthetic feature frame with a known refill process, for the model tests.

Each prescription has a segment-dependent lateness (how many days after run-out its owner
refills) plus a per-prescription habit that the feature ``prior_lateness_mean`` reveals
noisily; some owners lapse and never come back within the horizon. Labels follow the feature
builder's conventions: a 120-day horizon, censoring when the data end first, lapse = no fill
by run-out + 30 days.

``make_frame`` is clean by default. ``missing_share`` and ``decimals`` opt in to what real
feature frames look like (the ONNX parity test uses them): null history features and
categories, a feature whose feed breaks so that only the latest rows lack it (missing at
prediction time, never in training), and features stored rounded to a few decimals, whose
values then often sit exactly halfway between two others, i.e. on a tree's split threshold.
They draw from their own random stream, so the clean frame is the same with or without them.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

DRUG_CLASSES = ("antiparasitic", "cardiac", "endocrine", "nsaid", "thyroid")
# true median lateness (days after run-out) by drug class, without autoship
CLASS_LATENESS = {
    "antiparasitic": 10.0,
    "cardiac": 2.0,
    "endocrine": 4.0,
    "nsaid": 14.0,
    "thyroid": 6.0,
}
AUTOSHIP_LATENESS = -3.0
LAPSE_RATE = {False: 0.15, True: 0.03}
FIRST_AS_OF = date(2024, 1, 1)
AS_OF_SPAN_DAYS = 540
DATA_END = FIRST_AS_OF + timedelta(days=AS_OF_SPAN_DAYS + 60)
HORIZON = 120.0
NUMERIC = ["days_supply_remaining", "days_since_last_fill", "prior_lateness_mean", "autoship_flag"]
CATEGORICAL = ["species", "drug_class", "channel"]
KEYS = ["rx_id", "as_of_date", "last_order_id", "last_fill_date"]
LABELS = ["days_to_refill", "duration_days", "refilled", "lapse"]
SEGMENTS = ["species", "drug_class", "channel", "autoship", "cycle_days"]
COLUMNS = [*KEYS, *NUMERIC, *SEGMENTS, *LABELS]


def true_lateness(drug_class: str, autoship: bool) -> float:
    return CLASS_LATENESS[drug_class] + (AUTOSHIP_LATENESS if autoship else 0.0)


def _degrade(
    frame: pl.DataFrame, missing_share: float, decimals: int | None, seed: int
) -> pl.DataFrame:
    """Real-frame blemishes on a clean frame (see the module docstring); labels untouched."""
    rng = np.random.default_rng([seed, 1])
    n = frame.height

    def nulled(column: str, mask: np.ndarray) -> pl.Expr:
        return pl.when(pl.Series(mask)).then(None).otherwise(pl.col(column)).alias(column)

    # the feed of days_since_last_fill breaks for the last 20% of the as-of span: inside the
    # test period, which ends a horizon before the data end (models.split), never in training
    broken = frame.get_column("as_of_offset").to_numpy() >= 0.8 * AS_OF_SPAN_DAYS
    degraded = frame.with_columns(
        nulled("prior_lateness_mean", rng.random(n) < missing_share),
        nulled("channel", rng.random(n) < missing_share),
        nulled("days_since_last_fill", broken & (rng.random(n) < 4 * missing_share)),
    )
    if decimals is None:
        return degraded
    return degraded.with_columns(pl.col("prior_lateness_mean").round(decimals))


def make_frame(
    n_rx: int = 2000,
    rows_per_rx: int = 10,
    seed: int = 0,
    missing_share: float = 0.0,
    decimals: int | None = None,
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["dog", "cat"], n_rx, p=[0.65, 0.35])
    drug_class = rng.choice(DRUG_CLASSES, n_rx)
    channel = rng.choice(["online", "clinic", "retail"], n_rx)
    autoship = rng.random(n_rx) < 0.3
    cycle = rng.choice([30, 60, 90], n_rx, p=[0.6, 0.25, 0.15])
    habit = rng.normal(0.0, 4.0, n_rx)

    r = np.repeat(np.arange(n_rx), rows_per_rx)
    n = r.size
    as_of_offset = rng.integers(0, AS_OF_SPAN_DAYS, n)
    since_fill = np.floor(rng.random(n) * cycle[r]).astype(np.int64)
    supply = cycle[r] - since_fill + rng.normal(0.0, 2.0, n)
    base = np.array([true_lateness(d, a) for d, a in zip(drug_class, autoship, strict=True)])
    lateness = base[r] + habit[r] + rng.laplace(0.0, 2.5, n)
    t = np.maximum(1.0, np.round(supply + lateness))
    lapsed = rng.random(n) < np.where(autoship[r], LAPSE_RATE[True], LAPSE_RATE[False])
    t = np.where(lapsed, np.inf, t)

    censor = np.minimum(HORIZON, (DATA_END - FIRST_AS_OF).days - as_of_offset).astype(np.float64)
    refilled = t <= censor
    duration = np.where(refilled, t, censor)
    deadline = np.maximum(supply + 30.0, 0.0)
    lapse_known = refilled | (censor >= deadline)
    frame = pl.DataFrame(
        {
            "rx_id": [f"rx{i:05d}" for i in r],
            "as_of_offset": as_of_offset,
            "last_order_id": [f"o{i:07d}" for i in range(n)],
            "days_supply_remaining": supply,
            "days_since_last_fill": since_fill.astype(np.float64),
            "prior_lateness_mean": base[r] + habit[r] + rng.normal(0.0, 1.5, n),
            "autoship_flag": autoship[r].astype(np.float64),
            "species": species[r],
            "drug_class": drug_class[r],
            "channel": channel[r],
            "autoship": autoship[r],
            "cycle_days": cycle[r],
            "days_to_refill": np.where(refilled, t, np.nan),
            "duration_days": duration,
            "refilled": refilled,
            "lapse": np.where(lapse_known, t > deadline, False),
            "lapse_known": lapse_known,
        }
    )
    as_of_date = pl.lit(FIRST_AS_OF) + pl.duration(days=pl.col("as_of_offset"))
    frame = frame.with_columns(
        as_of_date=as_of_date,
        last_fill_date=as_of_date - pl.duration(days=pl.col("days_since_last_fill")),
        days_to_refill=pl.col("days_to_refill").fill_nan(None),
        lapse=pl.when(pl.col("lapse_known")).then(pl.col("lapse")),
    )
    if missing_share > 0.0 or decimals is not None:
        frame = _degrade(frame, missing_share, decimals, seed)
    return frame.select(COLUMNS).sort("as_of_date", "rx_id")
