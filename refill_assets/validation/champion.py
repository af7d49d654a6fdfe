"""How the champion is chosen: every model on the temporal holdout, then the gate.

``choose_champion`` is the whole use case the validation asset runs:

1. read every candidate's record and test predictions (``models.records``), and the
   oracle's predictions when the world's truth is known;
2. the challenger is the non-heuristic model with the best *validation* MAE (the test
   period stays unseen by the choice);
3. the gate (``validation.gate.decide``) judges its timing and its lapse probability on
   the test period against the heuristic and, per large segment and on lapse AUC, against
   the current champion, re-scored on the same test rows (its judged fit, which never saw
   them: ``tracking.load_judged``);
4. MLflow: the winner gets the ``champion`` alias (or the heuristic baseline, when there
   is no champion yet), the challenger's run records the decision, and every candidate's
   version its test figures (``HOLDOUT_FIGURES``: what the live monitoring compares with);
5. the validation report and a model card per kind go under ``reports/``.

A candidate whose test predictions are missing or not finite on any row
(``models.metrics.non_finite``) is left out, with the rows named in the decision's
reasons; without the baseline, or without any other usable candidate, the gate cannot
judge and the decision is ``undecided``: nothing is promoted and the check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from refill_assets.features import registry
from refill_assets.models import records, tracking
from refill_assets.models.candidate import read_split
from refill_assets.models.labels import HORIZON_DAYS
from refill_assets.models.oracle import oracle_predictions, read_truth
from refill_assets.models.schema import KINDS
from refill_assets.storage.layout import Layout
from refill_assets.validation.gate import (
    BASELINE,
    Decision,
    Figures,
    GatePolicy,
    decide,
    undecided,
)

# each candidate's test-period figures, kept on its MLflow version for the live monitoring
HOLDOUT_FIGURES = ("mae_days", "coverage_p10_p90", "lapse_roc_auc", "lapse_brier")
NIGHTLY_MAE = "mae_days_nightly"  # the test MAE weighted as the nightly population weighs it


@dataclass(frozen=True)
class ChampionChoice:
    metrics: pl.DataFrame  # one row per model (and the oracle)
    challenger: str
    decision: Decision
    champion: tracking.LoggedModel | None  # in effect after the decision
    report: Path
    test_window: str


def choose_challenger(records_by_kind: dict[str, dict]) -> str:
    """The non-baseline model with the lowest validation MAE."""
    return min(
        (k for k in records_by_kind if k != BASELINE),
        key=lambda k: records_by_kind[k]["validation"]["mae_days"],
    )


def choose_champion(
    layout: Layout, tracking_uri: str, truth_dir: Path | None, policy: GatePolicy
) -> ChampionChoice:
    # scikit-learn's metrics and plotly load here, not when the definitions load
    from refill_assets.models.metrics import by_segment, evaluate, nightly_mae, non_finite
    from refill_assets.validation.cards import LIMITATIONS, model_card
    from refill_assets.validation.report import Holdout, validate, write_report

    artifacts = layout.mlflow_artifacts
    split = read_split(layout.snapshot)
    found = {k: records.read_record(layout.model_dir(k)) for k in KINDS}
    preds = {k: records.read_test_predictions(layout.model_dir(k)) for k in KINDS}
    unusable = {k: why for k in KINDS if (why := non_finite(preds[k], split.test))}
    usable = [k for k in KINDS if k not in unusable]
    truth = read_truth(truth_dir) if truth_dir else None
    oracle = oracle_predictions(split.test, truth) if truth is not None else None
    holdout = Holdout(split.test, {k: preds[k] for k in usable}, oracle)
    result = validate(holdout)
    figures = {row["model"]: Figures.of(row) for row in result.metrics.iter_rows(named=True)}

    current = tracking.champion(tracking_uri, artifacts)
    current_name = f"{current.model_name} v{current.version}" if current else None
    left_out = [f"{kind} left out: {why}" for kind, why in unusable.items()]
    challengers = {k: found[k] for k in usable}
    if BASELINE in unusable or not set(challengers) - {BASELINE}:
        challenger = choose_challenger(found)
        decision = undecided(challenger, current_name, "; ".join(left_out) or "no challenger")
    else:
        challenger = choose_challenger(challengers)
        champion_segments = champion_figures = None
        if current is not None:
            # its judged fit: the refit that serves trained on most of today's test rows
            judged = tracking.load_judged(tracking_uri, artifacts, current)
            features = tracking.as_model_input(split.test.select(registry.feature_names()))
            served_pred = pl.from_pandas(judged.predict(features))
            broken = non_finite(served_pred, split.test)
            if broken is None:
                champion_segments = by_segment(served_pred, split.test)
                champion_figures = Figures.of(evaluate(served_pred, split.test))
            else:
                left_out.append(f"champion {current_name} not compared by segment: {broken}")
        decision = decide(
            challenger,
            figures[challenger],
            figures[BASELINE],
            result.segments[challenger],
            current_name,
            champion_segments,
            champion_figures,
            policy,
        )
        decision.reasons.extend(left_out)
    if decision.promoted or decision.fallback:
        promoted = challenger if decision.promoted else decision.fallback
        tracking.promote(tracking_uri, artifacts, found[promoted]["version"], decision.as_dict())
    tracking.record_decision(
        tracking_uri, artifacts, found[challenger]["run_id"], decision.as_dict()
    )
    for row in result.metrics.filter(pl.col("model").is_in(usable)).iter_rows(named=True):
        held = {m: row[m] for m in HOLDOUT_FIGURES if row[m] is not None}
        nightly = nightly_mae(preds[row["model"]], split.test)
        if nightly is not None:  # weighted as the nights see it: what live MAE is held to
            held[NIGHTLY_MAE] = nightly
        tracking.record_holdout_figures(
            tracking_uri, artifacts, found[row["model"]]["version"], held
        )
    in_effect = tracking.champion(tracking_uri, artifacts)

    # every test row is followed for the whole horizon (models.split): say so with the window
    window = (
        f"{split.cuts[1]} … {split.test['as_of_date'].max()} (as-of days, each followed up "
        f"for {HORIZON_DAYS:g} days; data end {split.data_end})"
    )
    report = write_report(
        layout.reports / "validation.html", holdout, result, decision.as_dict(), window
    )
    docs = {f.name: (f.meaning, f.unit) for f in registry.FEATURES}
    for kind in usable:
        model_card(
            layout.reports / "model_cards" / f"{kind}.md",
            kind,
            docs,
            _windows(found[kind]),
            result.metrics.filter(pl.col("model") == kind).row(0, named=True),
            result.segments[kind],
            LIMITATIONS[kind],
        )
    return ChampionChoice(result.metrics, challenger, decision, in_effect, report, window)


def _windows(record: dict) -> str:
    """The card's training window: what the holdout judged, and the refit that serves."""
    judged = f"{record['train_window']} (the fit the test period judged)"
    serving = record.get("serving_window")  # records written before the refit have none
    return f"{judged}; serves a refit on {serving}" if serving else judged
