"""A window of nights scored by the champion: feature rows per day, predictions, one write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from refill_assets.features import registry
from refill_assets.features.examples import scoring_rows
from refill_assets.models import tracking
from refill_assets.scoring.scores import replace_days, score_day


@dataclass(frozen=True)
class ScoredWindow:
    scores: pl.DataFrame  # the rows written, every day of the window
    days: int
    champion: tracking.LoggedModel


def score_window(
    con: duckdb.DuckDBPyConnection, tracking_uri: str, artifacts: Path, start: date, end: date
) -> ScoredWindow:
    """Score every active maintenance prescription of each day from ``start`` to ``end`` with
    the MLflow champion, and replace those days of ``scores.rx_refill_scores`` at once."""
    champion = tracking.champion(tracking_uri, artifacts)
    if champion is None:
        raise RuntimeError("no champion model in MLflow: run the training assets first")
    model = tracking.load_model(tracking_uri, artifacts, champion.version)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    scored = []
    for day in days:
        rows = scoring_rows(con, day)
        features = tracking.as_model_input(rows.select(registry.feature_names()))
        predictions = pl.from_pandas(model.predict(features))
        scored.append(
            score_day(rows, predictions, champion.model_name, champion.version, champion.run_id)
        )
    scores = pl.concat(scored)
    replace_days(con, scores, start, end)
    return ScoredWindow(scores, len(days), champion)
