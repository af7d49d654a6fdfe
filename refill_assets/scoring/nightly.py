"""A window of nights scored by the champion: feature rows a week at a time, predictions, one
write.

Beside the champion, the heuristic baseline given (the newest one trained) scores the same
rows, so the monitoring follows the model/heuristic ratio live; when the champion is that
heuristic, its own scores are the baseline's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.features import registry
from refill_assets.features.examples import scoring_rows
from refill_assets.models import tracking
from refill_assets.scoring.scores import replace_days, score_day

# called with a day, its feature rows and the champion's predictions on them
Observer = Callable[[date, pl.DataFrame, pl.DataFrame], None]
# days whose features are built together: one build costs little more than one night's (a
# week of a 20k-pet world 1.5 s, a night 1.0 s), and a week of the large world stays small
CHUNK_DAYS = 7


@dataclass(frozen=True)
class ScoredWindow:
    scores: pl.DataFrame  # the rows written, every day of the window
    days: int
    champion: tracking.LoggedModel
    baseline: tracking.LoggedModel | None


def score_window(
    con: duckdb.DuckDBPyConnection,
    tracking_uri: str,
    artifacts: Path,
    start: date,
    end: date,
    baseline_version: str | None = None,
    observe: Observer | None = None,
) -> ScoredWindow:
    """Score every active maintenance prescription of each day from ``start`` to ``end`` with
    the MLflow champion (and the baseline ``baseline_version``, when given), and replace
    those days of ``scores.rx_refill_scores`` (and of the baseline's table) at once.

    ``observe(day, features, predictions)``, when given, sees each day's feature rows and
    the champion's predictions on them (the drift watch), so they are built only once."""
    champion = tracking.champion(tracking_uri, artifacts)
    if champion is None:
        raise RuntimeError("no champion model in MLflow: run the training assets first")
    baseline = None
    if baseline_version is not None:
        baseline = tracking.model_version(tracking_uri, artifacts, baseline_version)
    # by version: a heuristic champion is its own baseline, loaded and run once
    served = {m.version: m for m in (champion, baseline) if m is not None}
    models = {v: tracking.load_model(tracking_uri, artifacts, v) for v in served}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    scored: dict[str, list[pl.DataFrame]] = {v: [] for v in served}
    for first in range(0, len(days), CHUNK_DAYS):
        chunk = days[first : first + CHUNK_DAYS]
        rows = scoring_rows(con, *chunk)
        features = tracking.as_model_input(rows.select(registry.feature_names()))
        for version, logged in served.items():
            predictions = pl.from_pandas(models[version].predict(features))
            scored[version].append(
                score_day(rows, predictions, logged.model_name, version, logged.run_id)
            )
            if observe is not None and version == champion.version:
                _each_day(rows, predictions, observe)
    scores = pl.concat(scored[champion.version])
    baseline_scores = pl.concat(scored[baseline.version]) if baseline else None
    replace_days(con, scores, start, end, baseline_scores)
    return ScoredWindow(scores, len(days), champion, baseline)


def _each_day(rows: pl.DataFrame, predictions: pl.DataFrame, observe: Observer) -> None:
    """``observe`` each day of a chunk with that day's rows and predictions."""
    for (day,), part in rows.with_row_index("_row").group_by("as_of_date", maintain_order=True):
        index = part["_row"]
        observe(day, part.drop("_row"), predictions[index])
