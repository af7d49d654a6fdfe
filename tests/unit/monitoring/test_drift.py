"""Feature and prediction drift on small seeded synthetic frames (no warehouse, no Dagster)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from refill_assets.features.registry import FEATURES, Feature
from refill_assets.monitoring.drift import (
    SCHEMA,
    DriftPolicy,
    feature_drift,
    population_stability_index,
    prediction_drift,
    summarize,
)

ROWS = 5_000
# a handful of registry features, one of each kind and a nullable int
NAMES = ("weight_kg", "rx_fill_count", "last_ship_delay_days", "species", "autoship")
SOME = [f for f in FEATURES if f.name in NAMES]
WEIGHT_MEAN, WEIGHT_STD = 20.0, 8.0
_POLARS = {"float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "category": pl.String}


def _frame(seed: int, rows: int = ROWS) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "weight_kg": rng.normal(WEIGHT_MEAN, WEIGHT_STD, rows),
            "rx_fill_count": rng.poisson(4, rows),
            "last_ship_delay_days": rng.integers(-2, 5, rows),
            "species": rng.choice(["dog", "cat", "other"], rows, p=[0.6, 0.35, 0.05]),
            "autoship": rng.random(rows) < 0.3,
        },
        schema={f.name: _POLARS[f.dtype] for f in SOME},
    )


def _row(result: pl.DataFrame, feature: str) -> dict:
    return result.filter(pl.col("feature") == feature).row(0, named=True)


def _drifted(result: pl.DataFrame) -> list[str]:
    return result.filter(pl.col("drifted"))["feature"].to_list()


# -- no drift ------------------------------------------------------------------------------


def test_the_same_frame_has_zero_statistics_and_nothing_drifted():
    frame = _frame(1)
    result = feature_drift(frame, frame, SOME)
    assert result.schema == pl.Schema(SCHEMA)
    assert result["feature"].to_list() == [f.name for f in SOME]
    assert _drifted(result) == []
    numeric = result.filter(pl.col("kind") == "numeric")
    assert numeric["psi"].to_list() == pytest.approx([0.0] * 3, abs=1e-12)
    assert numeric["wasserstein"].to_list() == pytest.approx([0.0] * 3, abs=1e-12)
    assert numeric["jensen_shannon"].null_count() == 3
    categorical = result.filter(pl.col("kind") == "categorical")
    assert categorical["jensen_shannon"].to_list() == pytest.approx([0.0] * 2, abs=1e-12)
    assert categorical["psi"].null_count() == 2


def test_two_samples_of_one_distribution_do_not_drift():
    result = feature_drift(_frame(1), _frame(2), SOME)
    assert _drifted(result) == []
    assert result["psi"].drop_nulls().max() < 0.02
    assert result["wasserstein"].drop_nulls().max() < 0.05
    assert result["jensen_shannon"].drop_nulls().max() < 0.05
    assert result["reference_rows"].to_list() == [ROWS] * len(SOME)


# -- numeric drift -------------------------------------------------------------------------


def test_a_one_std_mean_shift_drifts_only_that_feature():
    current = _frame(2).with_columns(pl.col("weight_kg") + WEIGHT_STD)
    result = feature_drift(_frame(1), current, SOME)
    assert _drifted(result) == ["weight_kg"]
    weight = _row(result, "weight_kg")
    assert weight["psi"] > 0.2
    assert weight["wasserstein"] == pytest.approx(1.0, abs=0.1)  # one reference std


def test_a_scale_only_change_is_caught_by_wasserstein_where_psi_stays_below():
    # same mean, 30 % wider: too little for PSI's deciles, a clear move of mass
    current = _frame(2).with_columns(
        (pl.col("weight_kg") - WEIGHT_MEAN) * 1.3 + WEIGHT_MEAN,
    )
    weight = _row(feature_drift(_frame(1), current, SOME), "weight_kg")
    assert weight["psi"] < 0.2
    assert weight["wasserstein"] > 0.1
    assert weight["drifted"]
    assert weight["statistic"] == "wasserstein"


def test_psi_matches_a_hand_computation_with_empty_bins():
    # ten equally likely values, one per decile bin; tonight only 0 and 1, half each
    reference = np.repeat(np.arange(10.0), 100)
    current = np.repeat([0.0, 1.0], 500)
    filled = 2 * (0.5 - 0.1) * np.log(0.5 / 0.1)
    emptied = 8 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)  # empty bins take the epsilon share
    assert population_stability_index(reference, current, 10) == pytest.approx(filled + emptied)


def test_a_constant_reference_is_scaled_by_one():
    reference = pl.DataFrame({"rx_fill_count": [3] * 1000})
    current = pl.DataFrame({"rx_fill_count": [3] * 800 + [4] * 200})
    feature = [f for f in FEATURES if f.name == "rx_fill_count"]
    row = feature_drift(reference, current, feature).row(0, named=True)
    # one unit moved on 20 % of rows, read in the feature's own units
    assert row["wasserstein"] == pytest.approx(0.2)
    assert row["drifted"]


# -- categorical drift ---------------------------------------------------------------------


def test_a_new_category_on_30_percent_of_rows_drifts():
    current = _frame(2)
    exotic = np.random.default_rng(3).random(ROWS) < 0.3
    current = current.with_columns(
        pl.when(pl.Series(exotic)).then(pl.lit("exotic")).otherwise("species").alias("species")
    )
    result = feature_drift(_frame(1), current, SOME)
    assert _drifted(result) == ["species"]
    assert _row(result, "species")["jensen_shannon"] > 0.1


def test_a_category_absent_from_one_side_gives_a_finite_known_distance():
    species = [f for f in FEATURES if f.name == "species"]
    half = pl.DataFrame({"species": ["dog", "cat"] * 500})
    dogs = pl.DataFrame({"species": ["dog"] * 1000})
    # p = (1/2, 1/2), q = (1, 0): JS divergence (0.2075 + 0.4150) / 2 in bits
    m = np.array([0.75, 0.25])
    divergence = (0.5 * np.log2(0.5 / m[0]) + 0.5 * np.log2(0.5 / m[1]) + np.log2(1 / m[0])) / 2
    for reference, current in ((half, dogs), (dogs, half)):  # absent tonight, absent before
        row = feature_drift(reference, current, species).row(0, named=True)
        assert row["jensen_shannon"] == pytest.approx(np.sqrt(divergence))
        assert row["drifted"]


def test_bool_features_are_categorical_and_may_be_categorical_dtype():
    result = feature_drift(_frame(1), _frame(2), SOME)
    assert _row(result, "autoship")["kind"] == "categorical"
    assert _row(result, "species")["kind"] == "categorical"
    as_enum = _frame(2).with_columns(pl.col("species").cast(pl.Enum(["dog", "cat", "other"])))
    assert _row(feature_drift(_frame(2), as_enum, SOME), "species")["jensen_shannon"] == 0.0


# -- missingness ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["last_ship_delay_days", "weight_kg", "autoship", "species"])
def test_missingness_rising_from_0_to_40_percent_drifts(name):
    current = _frame(2)
    missing = pl.Series(np.random.default_rng(4).random(ROWS) < 0.4)
    current = current.with_columns(pl.when(missing).then(None).otherwise(pl.col(name)).alias(name))
    row = _row(feature_drift(_frame(1), current, SOME), name)
    assert row["drifted"]
    assert row["reference_null_share"] == 0.0
    assert row["current_null_share"] == pytest.approx(0.4, abs=0.02)


def test_nan_counts_as_missing():
    current = _frame(2).with_columns(
        pl.when(pl.int_range(pl.len()) % 5 < 2)
        .then(float("nan"))
        .otherwise("weight_kg")
        .alias("weight_kg")
    )
    row = _row(feature_drift(_frame(1), current, SOME), "weight_kg")
    assert row["current_null_share"] == pytest.approx(0.4)
    assert row["drifted"]


def test_a_feature_all_null_on_both_sides_has_zero_statistics_and_no_drift():
    nulls = _frame(1).with_columns(
        pl.lit(None, pl.Float64).alias("weight_kg"), pl.lit(None, pl.String).alias("species")
    )
    result = feature_drift(nulls, nulls.head(100), SOME)
    weight, species = _row(result, "weight_kg"), _row(result, "species")
    assert (weight["psi"], weight["wasserstein"], weight["drifted"]) == (0.0, 0.0, False)
    assert (species["jensen_shannon"], species["drifted"]) == (0.0, False)
    assert weight["reference_null_share"] == weight["current_null_share"] == 1.0


def test_a_numeric_feature_all_null_on_one_side_drifts_by_psi():
    nulls = _frame(2).with_columns(pl.lit(None, pl.Float64).alias("weight_kg"))
    row = _row(feature_drift(_frame(1), nulls, SOME), "weight_kg")
    assert row["wasserstein"] is None
    assert row["psi"] > 0.2
    assert row["drifted"]


def test_a_feature_on_few_rows_is_judged_by_psi_alone():
    """150 values a side (under ``min_values``): a half-std move is no Wasserstein verdict."""
    few = pl.Series([None] * (ROWS - 150), dtype=pl.Float64)
    reference = _frame(1).with_columns(weight_kg=pl.concat([few, _frame(1)["weight_kg"][:150]]))
    moved = _frame(2)["weight_kg"][:150] + WEIGHT_STD / 2
    current = _frame(2).with_columns(weight_kg=pl.concat([few, moved]))
    row = _row(feature_drift(reference, current, SOME), "weight_kg")
    assert row["wasserstein"] is None and row["statistic"] == "psi"
    judged = feature_drift(reference, current, SOME, DriftPolicy(min_values=100))
    assert _row(judged, "weight_kg")["wasserstein"] > 0.3  # with a lower bar, it is judged


# -- predictions and the summary -----------------------------------------------------------


def _predictions(seed: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "predicted_days_to_refill": rng.gamma(4, 6, ROWS) + shift,
            "lapse_probability": rng.beta(2, 8, ROWS),
        }
    )


def test_prediction_drift_flags_a_shift_in_predicted_days():
    steady = prediction_drift(_predictions(1), _predictions(2))
    assert _drifted(steady) == []
    shifted = prediction_drift(_predictions(1), _predictions(2, shift=10.0))
    assert _drifted(shifted) == ["predicted_days_to_refill"]
    assert shifted["kind"].to_list() == ["numeric", "numeric"]


def _rows(drifted: list[bool]) -> pl.DataFrame:
    return pl.DataFrame({"feature": [f"f{i}" for i in range(len(drifted))], "drifted": drifted})


def test_summarize_warns_above_the_drifted_share():
    steady = _rows([False, False])
    two_of_five = summarize(_rows([True, True, False, False, False]), steady)
    assert two_of_five.drifted_features == ["f0", "f1"]
    assert two_of_five.drifted_share == pytest.approx(0.4)
    assert two_of_five.warn
    assert "2 of 5 features drifted" in two_of_five.reason

    one_of_five = summarize(_rows([False, True, False, False, False]), steady)
    assert one_of_five.drifted_share == pytest.approx(0.2)
    assert not one_of_five.warn
    assert one_of_five.prediction_drifted == []


def test_summarize_warns_on_a_drifted_prediction_alone():
    predictions = pl.DataFrame(
        {"feature": ["predicted_days_to_refill", "lapse_probability"], "drifted": [False, True]}
    )
    summary = summarize(_rows([False] * 5), predictions)
    assert summary.drifted_share == 0.0
    assert summary.prediction_drifted == ["lapse_probability"]
    assert summary.warn
    assert "lapse_probability" in summary.reason


def test_summarize_refuses_no_rows():
    with pytest.raises(ValueError, match="no feature drift rows"):
        summarize(_rows([]), _rows([False]))


# -- errors --------------------------------------------------------------------------------


def test_empty_frames_are_refused_naming_which():
    with pytest.raises(ValueError, match="reference frame is empty"):
        feature_drift(_frame(1).head(0), _frame(2), SOME)
    with pytest.raises(ValueError, match="current frame is empty"):
        feature_drift(_frame(1), _frame(2).head(0), SOME)


def test_a_missing_feature_column_is_named():
    with pytest.raises(ValueError, match=r"current frame lacks \['species'\]"):
        feature_drift(_frame(1), _frame(2).drop("species"), SOME)
    with pytest.raises(ValueError, match=r"reference frame lacks \['weight_kg', 'autoship'\]"):
        feature_drift(_frame(1).drop("weight_kg", "autoship"), _frame(2), SOME)
    with pytest.raises(ValueError, match="lapse_probability"):
        prediction_drift(_predictions(1).drop("lapse_probability"), _predictions(2))


def test_infinite_values_are_refused_naming_the_feature():
    current = _frame(2).with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(float("inf"))
        .otherwise("weight_kg")
        .alias("weight_kg")
    )
    with pytest.raises(ValueError, match="'weight_kg' has 1 infinite values in the current"):
        feature_drift(_frame(1), current, SOME)


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("weight_kg", pl.col("weight_kg").cast(pl.String)),  # text in a numeric feature
        ("rx_fill_count", pl.col("rx_fill_count") > 3),  # a bool is not a number here
        ("autoship", pl.col("autoship").cast(pl.Int64)),  # a 0/1 flag is not a bool
        ("species", pl.lit(1).alias("species")),
    ],
)
def test_a_wrong_column_dtype_is_refused(name, wrong):
    with pytest.raises(ValueError, match=name):
        feature_drift(_frame(1), _frame(2).with_columns(wrong), SOME)


def test_a_policy_that_cannot_work_is_refused():
    with pytest.raises(ValueError, match="bins"):
        DriftPolicy(bins=1)
    with pytest.raises(ValueError, match="js_threshold"):
        DriftPolicy(js_threshold=0)


# -- the whole registry --------------------------------------------------------------------


def _registry_frame(seed: int, rows: int = ROWS) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    makers = {
        "float": lambda: rng.normal(10, 3, rows),
        "int": lambda: rng.poisson(5, rows),
        "bool": lambda: rng.random(rows) < 0.4,
        "category": lambda: rng.choice(["a", "b", "c"], rows),
    }
    return pl.DataFrame(
        {f.name: makers[f.dtype]() for f in FEATURES},
        schema={f.name: _POLARS[f.dtype] for f in FEATURES},
    )


def test_the_full_registry_runs_on_a_frame_with_its_columns():
    reference = _registry_frame(1)
    result = feature_drift(reference, _registry_frame(2))
    assert result["feature"].to_list() == [f.name for f in FEATURES]
    expected_kinds = ["numeric" if f.dtype in ("float", "int") else "categorical" for f in FEATURES]
    assert result["kind"].to_list() == expected_kinds
    assert result["statistic"].null_count() == 0
    assert result["drifted"].null_count() == 0
    assert _drifted(result) == []
    summary = summarize(result, prediction_drift(_predictions(1), _predictions(2)))
    assert (summary.drifted_share, summary.warn) == (0.0, False)

    # one numeric and one categorical feature moved: exactly those two drift
    moved = _registry_frame(2).with_columns(
        pl.col("age_years") * 2, pl.lit("clinic").alias("channel")
    )
    assert _drifted(feature_drift(reference, moved)) == ["age_years", "channel"]


def test_feature_objects_built_in_a_test_work_too():
    features = [Feature("x", "a test feature", "units", "float")]
    reference = pl.DataFrame({"x": np.random.default_rng(1).normal(size=1000)})
    current = reference.with_columns(pl.col("x") + 2)
    assert feature_drift(reference, current, features)["drifted"].to_list() == [True]
