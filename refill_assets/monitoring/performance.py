"""Live performance: ``monitoring.performance_daily``, and the checks that read it.

One row per scoring day and model version, on that day's *settled* rows of
``monitoring.score_outcomes``: the timing figures on the rows whose refill came within the
horizon, the lapse figures on the rows whose lapse is decided, and the heuristic baseline's
MAE on the same refills (``monitoring.baseline_scores``: the newest heuristic, scored beside
the champion every night), so the model/heuristic ratio is followed live as the gate
measured it offline.

Final or provisional. Until a day's rows are settled, the settled ones are the quick
refills, and figures on them flatter the model. A day is ``final`` once all its rows are
settled or it is ``maturity_days`` old (90: every supply of up to 60 days has had its run-out
and grace; the rows still open then are the longest waits, a few per cent), else
``provisional``; the checks read final days only, pooled over the last ``window_days`` of
them (one day's rows are too few for a steady figure).

Only the days a settling touched are recomputed (``Settled.days``); with all rows of a day
settled, its row no longer changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from refill_assets.monitoring.outcomes import OUTCOMES_TABLE
from refill_assets.scoring.scores import BASELINE_COLUMNS, BASELINE_TABLE
from refill_assets.storage.warehouse import ensure_table, replace_rows

PERFORMANCE_TABLE = "monitoring.performance_daily"
PERFORMANCE_COLUMNS = {
    "as_of_date": "DATE",
    "model_name": "VARCHAR",
    "model_version": "VARCHAR",
    "status": "VARCHAR",  # final / provisional
    "rows_scored": "BIGINT",
    "rows_settled": "BIGINT",
    "rows_refilled": "BIGINT",  # settled, refill within the horizon: the timing figures' rows
    "rows_lapse_known": "BIGINT",
    "mae_days": "DOUBLE",
    "bias_days": "DOUBLE",  # mean of predicted - actual: > 0 predicts too late
    "median_ae_days": "DOUBLE",
    "within_7d": "DOUBLE",
    "coverage_p10_p90": "DOUBLE",
    "late_share": "DOUBLE",  # actual later than predicted
    "lapse_rate": "DOUBLE",
    "lapse_roc_auc": "DOUBLE",
    "lapse_brier": "DOUBLE",
    "lapse_calibration_error": "DOUBLE",  # expected calibration error, 10 bins of probability
    "heuristic_mae_days": "DOUBLE",  # the baseline on the same refills (null: not scored)
    "through": "DATE",  # the delivery day the figures are known at
}

# $days: the scoring days to compute; $through; $maturity_days
PERFORMANCE_SQL = f"""
with o as (
    select o.*, b.predicted_refill_date as baseline_date
    from {OUTCOMES_TABLE} as o
    left join {BASELINE_TABLE} as b using (as_of_date, rx_id)
    where o.as_of_date in (select unnest($days))
),

timing as (
    select
        as_of_date, model_name, model_version,
        count(*) as rows_scored,
        count(*) filter (settled) as rows_settled,
        bool_and(settled) as all_settled,
        count(error_days) filter (settled) as rows_refilled,
        count(lapsed) filter (settled) as rows_lapse_known,
        avg(abs(error_days)) filter (settled) as mae_days,
        avg(error_days) filter (settled) as bias_days,
        median(abs(error_days)) filter (settled) as median_ae_days,
        avg(cast(abs(error_days) <= 7 as double)) filter (settled) as within_7d,
        avg(cast(in_interval as double)) filter (settled) as coverage_p10_p90,
        avg(cast(error_days < 0 as double)) filter (settled) as late_share,
        avg(cast(lapsed as double)) filter (settled) as lapse_rate,
        avg(power(lapse_probability - cast(lapsed as double), 2)) filter (settled) as lapse_brier,
        avg(abs(datediff('day', actual_refill_date, baseline_date)))
            filter (settled and error_days is not null) as heuristic_mae_days
    from o
    group by all
),

lapse as (
    select
        as_of_date, model_version, lapse_probability as p, lapsed as y,
        -- Mann-Whitney: the AUC from the positives' ranks, ties at their average rank
        rank() over (partition by as_of_date, model_version order by lapse_probability)
            + (count(*) over (partition by as_of_date, model_version, lapse_probability) - 1)
            / 2.0 as r,
        least(floor(lapse_probability * 10), 9) as bin
    from o
    where settled and lapsed is not null
),

auc as (
    select as_of_date, model_version,
        (sum(r) filter (y) - count(*) filter (y) * (count(*) filter (y) + 1) / 2.0)
            / nullif(count(*) filter (y) * count(*) filter (not y), 0) as lapse_roc_auc
    from lapse
    group by all
),

bins as (
    select as_of_date, model_version, count(*) as n,
        abs(avg(p) - avg(cast(y as double))) as gap
    from lapse
    group by as_of_date, model_version, bin
),

calibration as (
    select as_of_date, model_version, sum(gap * n) / sum(n) as lapse_calibration_error
    from bins
    group by all
)

select
    t.as_of_date, t.model_name, t.model_version,
    case when t.all_settled or t.as_of_date + $maturity_days <= $through
        then 'final' else 'provisional' end as status,
    t.rows_scored, t.rows_settled, t.rows_refilled, t.rows_lapse_known,
    t.mae_days, t.bias_days, t.median_ae_days, t.within_7d, t.coverage_p10_p90, t.late_share,
    t.lapse_rate, a.lapse_roc_auc, t.lapse_brier, c.lapse_calibration_error,
    t.heuristic_mae_days, $through as through
from timing as t
left join auc as a using (as_of_date, model_version)
left join calibration as c using (as_of_date, model_version)
"""


def recompute_days(
    con: duckdb.DuckDBPyConnection, days: list[date], through: date | None, maturity_days: int
) -> pl.DataFrame:
    """Replace ``days``' rows of the performance table (all or nothing); returns them.

    ``days``: those of the rows a settling recomputed (``Settled.days``). They include every
    day not yet fully settled (its open rows are recomputed each night), so a day that turns
    final by age is among them."""
    ensure_table(con, BASELINE_TABLE, BASELINE_COLUMNS)
    ensure_table(con, PERFORMANCE_TABLE, PERFORMANCE_COLUMNS)
    params = {"days": days, "through": through, "maturity_days": maturity_days}
    rows = con.execute(PERFORMANCE_SQL, params).pl() if days else None
    replace_rows(con, PERFORMANCE_TABLE, "as_of_date IN (SELECT unnest(?))", [days], rows)
    return rows if rows is not None else pl.DataFrame()


@dataclass(frozen=True)
class PerformancePolicy:
    maturity_days: int = 90  # a day is final once this old (module doc)
    window_days: int = 28  # the checks pool the last this many final days
    min_rows: int = 200  # fewer settled refills than this in the window: not judged
    mae_tolerance: float = 0.15  # live MAE may exceed the offline test MAE by this share
    heuristic_ratio_max: float = 0.90  # 1 - the gate's margin: the model must still win
    coverage_band: tuple[float, float] = (0.70, 0.90)
    late_share_band: tuple[float, float] = (0.40, 0.60)
    calibration_error_max: float = 0.05


def pooled(performance: pl.DataFrame, version: str, policy: PerformancePolicy) -> dict | None:
    """The figures of ``version``'s last ``window_days`` final days, weighted by their rows
    (exact for the means; the AUC and the calibration error are the days' weighted means);
    None when there are fewer than ``min_rows`` settled refills."""
    final = performance.filter(
        (pl.col("model_version") == version) & (pl.col("status") == "final")
    ).sort("as_of_date")
    final = final.tail(policy.window_days)
    refills = int(final["rows_refilled"].sum() or 0)
    if refills < policy.min_rows:
        return None

    def mean(column: str, weight: str, rows: pl.DataFrame = final) -> float | None:
        known = rows.filter(pl.col(column).is_not_null() & (pl.col(weight) > 0))
        total = known[weight].sum()
        return float((known[column] * known[weight]).sum() / total) if total else None

    # the ratio compares the two on the same rows: the days the baseline was scored on
    with_baseline = final.filter(pl.col("heuristic_mae_days").is_not_null())
    return {
        "days": final.height,
        "first_day": final["as_of_date"].min(),
        "last_day": final["as_of_date"].max(),
        "rows_refilled": refills,
        "mae_days": mean("mae_days", "rows_refilled"),
        "heuristic_mae_days": mean("heuristic_mae_days", "rows_refilled"),
        "model_mae_on_baseline_days": mean("mae_days", "rows_refilled", with_baseline),
        "coverage_p10_p90": mean("coverage_p10_p90", "rows_refilled"),
        "late_share": mean("late_share", "rows_refilled"),
        "lapse_roc_auc": mean("lapse_roc_auc", "rows_lapse_known"),
        "lapse_calibration_error": mean("lapse_calibration_error", "rows_lapse_known"),
    }


@dataclass(frozen=True)
class Finding:
    name: str  # the check
    passed: bool
    message: str  # what was measured, against what, and where to look


def findings(
    figures: dict | None, offline_mae: float | None, policy: PerformancePolicy
) -> list[Finding]:
    """The performance checks on ``pooled`` figures (None: not enough settled rows yet, every
    check passes and says so: a warning on no data teaches ops to ignore the channel)."""
    names = ("live_mae", "beats_heuristic", "interval_coverage", "late_share", "lapse_calibration")
    if figures is None:
        note = f"not judged: fewer than {policy.min_rows} settled refills on final days"
        return [Finding(n, True, note) for n in names]
    span = f"{figures['days']} final days {figures['first_day']} … {figures['last_day']}"
    out = []
    mae = figures["mae_days"]
    if offline_mae is None:
        out.append(Finding(names[0], True, f"live MAE {mae:.2f} d ({span}); no offline figure"))
    else:
        limit = offline_mae * (1 + policy.mae_tolerance)
        out.append(
            Finding(
                names[0],
                mae <= limit,
                f"live MAE {mae:.2f} d over {span} vs offline test MAE {offline_mae:.2f} d "
                f"(limit {limit:.2f})",
            )
        )
    base, on_same = figures["heuristic_mae_days"], figures["model_mae_on_baseline_days"]
    if base and on_same is not None:
        ratio = on_same / base
        out.append(
            Finding(
                names[1],
                ratio <= policy.heuristic_ratio_max,
                f"model/heuristic MAE {ratio:.3f} ({on_same:.2f} / {base:.2f} d, {span}); the "
                f"gate asks ≤ {policy.heuristic_ratio_max:.2f}",
            )
        )
    else:
        out.append(Finding(names[1], True, "no heuristic baseline scored on these days"))
    for name, key, (low, high) in (
        (names[2], "coverage_p10_p90", policy.coverage_band),
        (names[3], "late_share", policy.late_share_band),
    ):
        value = figures[key]
        out.append(
            Finding(name, low <= value <= high, f"{key} {value:.3f} ({span}); band {low}–{high}")
        )
    error = figures["lapse_calibration_error"]
    out.append(
        Finding(
            names[4],
            error is None or error <= policy.calibration_error_max,
            f"lapse calibration error {error if error is None else round(error, 3)} ({span}); "
            f"max {policy.calibration_error_max}",
        )
    )
    return out
