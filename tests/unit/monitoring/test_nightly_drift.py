"""Each scored night against the champion's reference: the rows, the verdict, the table."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl

from refill_assets.features.registry import FEATURES
from refill_assets.models.reference import REFERENCE_OUTPUTS
from refill_assets.monitoring.nightly_drift import (
    CALENDAR,
    DRIFT_COLUMNS,
    DRIFT_TABLE,
    PREDICTION_KIND,
    WATCHED,
    DriftWatch,
    write_drift,
)

QUIET, SHIFTED = date(2026, 3, 1), date(2026, 3, 2)


def _features(seed: int, rows: int, shift: float = 0.0) -> pl.DataFrame:
    """Every registry feature; ``shift``: standard deviations added to every numeric one."""
    rng = np.random.default_rng(seed)
    columns = {}
    for f in FEATURES:
        if f.dtype == "category":
            columns[f.name] = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
        elif f.dtype == "bool":
            columns[f.name] = rng.random(rows) < 0.3
        else:
            columns[f.name] = rng.normal(10.0 + 3.0 * shift, 3.0, rows)
    return pl.DataFrame(columns)


def _predictions(seed: int, rows: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed + 100)
    days = rng.gamma(4.0, 7.0, rows) + 7.0 * shift
    return pl.DataFrame(
        {
            "predicted_days_to_refill": days,
            "p10_days": days * 0.7,
            "p90_days": days * 1.4,
            "lapse_probability": rng.beta(2, 12, rows),
        }
    )


def _watched() -> DriftWatch:
    reference = pl.concat(
        [_features(1, 20_000), _predictions(1, 20_000).select(REFERENCE_OUTPUTS)],
        how="horizontal",
    )
    watch = DriftWatch(reference, version="7")
    watch(QUIET, _features(2, 5_000), _predictions(2, 5_000))
    watch(SHIFTED, _features(3, 5_000, shift=0.5), _predictions(3, 5_000, shift=0.5))
    return watch


def test_each_night_has_a_row_per_watched_feature_and_prediction_column():
    rows = _watched().rows()
    assert rows.columns == list(DRIFT_COLUMNS)
    night = rows.filter(pl.col("as_of_date") == QUIET)
    assert night["feature"].to_list() == [f.name for f in WATCHED] + list(REFERENCE_OUTPUTS)
    assert not set(CALENDAR) & set(rows["feature"])  # a night is one day of the calendar
    assert night.filter(pl.col("kind") == PREDICTION_KIND).height == len(REFERENCE_OUTPUTS)
    assert rows["model_version"].unique().to_list() == ["7"]


def test_a_quiet_night_passes_and_a_shifted_one_warns():
    (quiet, calm), (shifted, moved) = _watched().verdicts()
    assert (quiet, shifted) == (QUIET, SHIFTED)
    assert not calm.warn and calm.drifted_features == [] and calm.prediction_drifted == []
    assert moved.warn
    assert moved.drifted_share > 0.5  # every numeric feature moved half a std
    assert "predicted_days_to_refill" in moved.prediction_drifted


def test_a_night_written_again_replaces_itself():
    rows = _watched().rows()
    with duckdb.connect() as con:
        write_drift(con, rows, QUIET, SHIFTED)
        write_drift(con, rows.filter(pl.col("as_of_date") == SHIFTED), SHIFTED, SHIFTED)
        counts = dict(
            con.execute(f"select as_of_date, count(*) from {DRIFT_TABLE} group by 1").fetchall()
        )
    per_night = len(WATCHED) + len(REFERENCE_OUTPUTS)
    assert counts == {QUIET: per_night, SHIFTED: per_night}
