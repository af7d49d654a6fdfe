"""The MLflow layer against a real local store (SQLite backend, file artifacts)."""

from __future__ import annotations

import polars as pl
import pytest

from refill_assets.models import tracking


class ShiftModel:
    """A stand-in model with the platform's predict contract: polars in, polars out."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        days = frame["days_supply_remaining"] + self.shift
        return pl.DataFrame(
            {
                "predicted_days_to_refill": days,
                "p10_days": days - 3,
                "p90_days": days + 3,
                "lapse_probability": pl.Series([0.1] * frame.height),
            }
        )


@pytest.fixture
def store(tmp_path):
    return f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}", tmp_path / "mlflow" / "artifacts"


def test_log_register_promote_and_load(store, tmp_path):
    uri, artifacts = store
    example = pl.DataFrame({"days_supply_remaining": [1.0, 5.0, 12.5]})
    card = tmp_path / "card.md"
    card.write_text("# a model card")
    assert tracking.champion(uri, artifacts) is None
    first = tracking.log_model_run(
        uri,
        artifacts,
        model_name="shift",
        model=ShiftModel(2.0),
        example=example,
        params={"shift": 2.0},
        metrics={"mae": 1.5},
        dataset_hash="abc123",
        files={"cards": card},
    )
    second = tracking.log_model_run(
        uri,
        artifacts,
        model_name="shift",
        model=ShiftModel(4.0),
        example=example,
        params={"shift": 4.0},
        metrics={"mae": 1.0},
        dataset_hash="abc123",
    )
    assert (first.version, second.version) == ("1", "2")

    tracking.promote(uri, artifacts, second.version, {"mae_vs_heuristic": 0.5})
    assert tracking.champion(uri, artifacts) == second
    loaded = tracking.load_model(uri, artifacts, tracking.champion(uri, artifacts).version)
    got = pl.from_pandas(loaded.predict(example.to_pandas()))
    assert got["predicted_days_to_refill"].to_list() == [5.0, 9.0, 16.5]

    import mlflow

    run = mlflow.MlflowClient(uri).get_run(first.run_id)
    assert run.data.tags["dataset_hash"] == "abc123"
    assert run.data.tags["code_version"] != ""
    assert run.data.metrics["mae"] == 1.5
    tracking.record_decision(uri, artifacts, second.run_id, {"promoted": True, "why": "better"})
    assert mlflow.MlflowClient(uri).get_run(second.run_id).data.tags["gate.decision"] == "True"


def test_the_judged_fit_is_kept_beside_a_refit(store):
    uri, artifacts = store
    example = pl.DataFrame({"days_supply_remaining": [1.0, 5.0]})
    common = {"example": example, "params": {}, "metrics": {}, "dataset_hash": "abc"}
    refit = tracking.log_model_run(
        uri, artifacts, model_name="shift", model=ShiftModel(4.0), judged=ShiftModel(1.0), **common
    )
    plain = tracking.log_model_run(
        uri, artifacts, model_name="shift", model=ShiftModel(2.0), **common
    )

    def days(model) -> list[float]:
        return pl.from_pandas(model.predict(example.to_pandas()))[
            "predicted_days_to_refill"
        ].to_list()

    # the registered version serves the refit; the gate re-scores the fit the holdout judged
    assert days(tracking.load_model(uri, artifacts, refit.version)) == [5.0, 9.0]
    assert days(tracking.load_judged(uri, artifacts, refit)) == [2.0, 6.0]
    # a version logged without one: its model is its judged fit
    assert days(tracking.load_judged(uri, artifacts, plain)) == [3.0, 7.0]
