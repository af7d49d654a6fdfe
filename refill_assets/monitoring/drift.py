"""Feature and prediction drift: tonight's scoring rows against the champion's reference.

Each night the champion scores the active prescriptions. ``feature_drift`` compares that
night's feature frame (``current``) with the champion's reference (``reference``: a sample
of the scoring rows of the last week of the data it was trained on, kept beside the model
version, ``refill_assets.models.reference``), one row per feature of the registry
(``refill_assets.features.registry.FEATURES``). The reference is that population, not the
training examples themselves: those are drawn per fill over the whole history, so features
that grow with history (counts, tenure) and the time since the last fill (a night holds each
active prescription once, a long wait on many nights) differ from any one night by
construction; measured on a small world, 32 of 53 features "drifted" on the training cut's
own night against the training examples.
``prediction_drift`` does the same for the model's outputs (predicted days to refill, lapse
probability), the reference being the champion's predictions on its reference sample: a
shift in what the model says shows before any label arrives. ``summarize`` turns both into
the night's verdict.

Kinds of feature
----------------
- numeric: registry dtype ``float`` or ``int``; the column must have a numeric dtype.
- categorical: registry dtype ``category`` (a String, Categorical or Enum column) and
  ``bool`` (a Boolean column). A bool is NOT treated as a 0/1 number: it is a categorical
  with the categories true / false / null, so a flag whose missingness changes is compared
  on the same footing as a flag whose share of true changes.

Statistics, and why each
------------------------
- PSI (numeric), population stability index over 10 bins cut at the reference's quantiles
  (unique edges, the outer bins open to -inf / +inf), plus one bin for missing values.
  Why: it is the industry convention for score and feature stability, with thresholds that
  practitioners already read (< 0.1 stable, 0.1-0.2 moderate, > 0.2 shift), and quantile
  bins make it sensitive to changes of shape in the bulk of the distribution. An empty bin
  gets a share of ``EMPTY_BIN_SHARE`` (1e-4) so that the logarithm stays finite.
- Wasserstein (numeric), the earth mover's distance between the non-missing values
  (``scipy.stats.wasserstein_distance``), divided by the reference's standard deviation.
  Why: it measures how far mass moved in the feature's own units, so after normalising a
  small shift of a wide feature and a large shift of a narrow one are comparable; unlike
  PSI it sees a change of scale or a move within one quantile bin, and it does not
  saturate when mass leaves the reference's range.
  Fallback: when the reference's non-missing values are all equal (standard deviation 0)
  there is no spread to scale by, so the distance is divided by 1 and is read in the
  feature's own units (for a constant count, 0.1 = one unit moved on 10 % of rows).
- Jensen-Shannon distance (categorical), ``scipy.spatial.distance.jensenshannon`` in base 2,
  so it lies in [0, 1], over the union of the categories seen on either side. Why: it is
  bounded and symmetric, and it stays defined when a category is absent from one side,
  where KL divergence and PSI are infinite without an arbitrary epsilon.

Missing values are information: a null (or a float NaN, counted as missing too) is its own
bin in PSI and its own category in Jensen-Shannon, so a change in missingness is drift.
Wasserstein compares the non-missing values only; PSI's missing bin carries missingness.

Drift rules (``DriftPolicy``)
-----------------------------
- numeric: Wasserstein is computed only when each side has at least ``min_values`` (200)
  non-missing values; on fewer (a feature present on a few rows a night, such as the wait of
  a pending reauthorization) its sampling noise alone passes the threshold, and PSI, whose
  missing bin also carries the feature's presence, judges alone.
- numeric: drifted when PSI > ``psi_threshold`` (0.2: the > 0.2 "shift" band of the rule
  of thumb; for a normal feature that is a mean shift of about 0.45 standard deviation)
  OR normalised Wasserstein > ``wasserstein_threshold`` (0.1 reference standard
  deviations: the default of Evidently's normed Wasserstein test for references over 1000
  rows, so the numbers read like that widely used tool's; it flags a mean shift of
  0.1 std or a 13 % change of scale of a normal feature, while between a 50 000-row
  reference and a 10 000-row night drawn from the same distribution it stays under 0.03).
- categorical (bool included): drifted when Jensen-Shannon > ``js_threshold`` (0.1, also
  Evidently's default for this distance).
- predictions: as numeric features, with ``prediction_psi_threshold`` for PSI.
- the night warns (``summarize``) when more than ``drifted_share_threshold`` (30 %) of the
  features drifted, or when any prediction column drifted.

The ``statistic`` column names the statistic that decides the row: for a numeric feature
the one of PSI and Wasserstein furthest above (or nearest to) its threshold, relative to
that threshold; for a categorical feature ``jensen_shannon``.

Edge cases (the project never fails silently)
---------------------------------------------
- an empty reference or current frame: ``ValueError`` naming which;
- a feature missing from either frame: ``ValueError`` naming the features and the frame;
- a numeric feature whose column is not numeric (a Boolean or String column), or a
  categorical one whose column has the wrong dtype: ``ValueError``;
- an infinite value in a numeric feature: ``ValueError`` naming the feature and frame
  (the feature builder never produces one, so it is a bug upstream, not a bin);
- a feature all-null on both sides: a row with every statistic 0, not drifted (nothing
  to compare, and nothing changed);
- a numeric feature all-null on one side only: Wasserstein is null (no values to move),
  PSI's missing bin decides.
A column of dtype Null (all-null, untyped) is accepted for any kind.

Calendar features (``as_of_month``, ``days_to_holiday``) describe the as-of day, and one
night's frame holds a single day while the training rows span many: they drift by
construction. They are 2 of the registry's features, under the warning share; a caller who
wants them out passes a filtered ``features``.

The thresholds assume nightly frames of thousands of rows: at 1 000 rows the sampling noise
of the normalised Wasserstein distance already reaches about 0.08, near its threshold.

Why not Evidently, NannyML or whylogs: each was checked on this stack and none fits.
Evidently 0.7.23 does not import under pandas 3.1; NannyML 0.13.1 pins LightGBM < 4.6 and
pulls XGBoost 2 (the platform runs LightGBM 4.7 and XGBoost 3.2); whylogs fails on NumPy 2.
Wasserstein and Jensen-Shannon therefore come from scipy directly (the maintained
implementations), and PSI, which scipy lacks, is a few lines of numpy here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from refill_assets.features.registry import FEATURES, Feature
from refill_assets.models.reference import REFERENCE_OUTPUTS

PREDICTION_COLUMNS = REFERENCE_OUTPUTS

# the share given to an empty PSI bin: keeps ln(actual / expected) finite, and small
# enough that one empty bin on both sides contributes nothing
EMPTY_BIN_SHARE = 1e-4

NUMERIC = "numeric"
CATEGORICAL = "categorical"
_KINDS = {"float": NUMERIC, "int": NUMERIC, "bool": CATEGORICAL, "category": CATEGORICAL}
# the column dtypes each categorical registry dtype accepts (Null: an untyped all-null column)
_CATEGORICAL_DTYPES = {
    "bool": {pl.Boolean, pl.Null},
    "category": {pl.String, pl.Categorical, pl.Enum, pl.Null},
}

SCHEMA = {
    "feature": pl.String,
    "kind": pl.String,
    "statistic": pl.String,
    "psi": pl.Float64,
    "wasserstein": pl.Float64,
    "jensen_shannon": pl.Float64,
    "drifted": pl.Boolean,
    "reference_rows": pl.Int64,
    "current_rows": pl.Int64,
    "reference_null_share": pl.Float64,
    "current_null_share": pl.Float64,
}


@dataclass(frozen=True)
class DriftPolicy:
    """When a feature, a prediction column and a night count as drifted (module docstring)."""

    psi_threshold: float = 0.2  # numeric: > 0.2 is the rule of thumb's "shift" band
    wasserstein_threshold: float = 0.1  # numeric: reference-std units, Evidently's default
    js_threshold: float = 0.1  # categorical: base-2 Jensen-Shannon distance, in [0, 1]
    bins: int = 10  # PSI bins, cut at the reference's deciles
    drifted_share_threshold: float = 0.3  # the night warns above this share of features
    prediction_psi_threshold: float = 0.2  # PSI of the model's outputs
    # Wasserstein is judged only with this many non-missing values on each side: a feature
    # present on few rows (a pending reauthorization's wait) moves by noise alone
    min_values: int = 200

    def __post_init__(self) -> None:
        # a zero or negative threshold would flag everything; say so rather than alert nightly
        thresholds = {
            "psi_threshold": self.psi_threshold,
            "wasserstein_threshold": self.wasserstein_threshold,
            "js_threshold": self.js_threshold,
            "prediction_psi_threshold": self.prediction_psi_threshold,
        }
        bad = [name for name, value in thresholds.items() if not value > 0]
        if bad:
            raise ValueError(f"drift thresholds must be positive: {bad}")
        if self.bins < 2:
            raise ValueError(f"PSI needs at least 2 bins, got {self.bins}")
        if not 0 <= self.drifted_share_threshold < 1:
            raise ValueError(
                f"drifted_share_threshold must be in [0, 1), got {self.drifted_share_threshold}"
            )


@dataclass(frozen=True)
class DriftSummary:
    """The night's verdict: which features and prediction columns drifted, and whether to warn."""

    drifted_features: list[str]
    drifted_share: float
    prediction_drifted: list[str]
    warn: bool
    reason: str


def feature_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    features: Sequence[Feature] = FEATURES,
    policy: DriftPolicy = DriftPolicy(),
) -> pl.DataFrame:
    """One row per feature: its statistics against the reference and whether it drifted."""
    return _compare(reference, current, features, policy, policy.psi_threshold, "features")


def prediction_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    columns: Sequence[str] = PREDICTION_COLUMNS,
    policy: DriftPolicy = DriftPolicy(),
) -> pl.DataFrame:
    """``feature_drift``'s rows for the model's output columns, compared as numeric.

    ``reference`` holds the champion's predictions on its reference sample.
    """
    outputs = [Feature(name, "model output", "", "float") for name in columns]
    return _compare(
        reference, current, outputs, policy, policy.prediction_psi_threshold, "prediction columns"
    )


def summarize(
    features: pl.DataFrame, predictions: pl.DataFrame, policy: DriftPolicy = DriftPolicy()
) -> DriftSummary:
    """The night's verdict from ``feature_drift`` and ``prediction_drift`` rows.

    Warns when more than ``policy.drifted_share_threshold`` of the features drifted, or when
    any prediction column drifted (the model's behaviour moved, whatever the features say).
    """
    for name, rows in (("features", features), ("predictions", predictions)):
        missing = sorted({"feature", "drifted"} - set(rows.columns))
        if missing:
            raise ValueError(f"{name} drift rows lack the columns {missing}")
    if features.is_empty():
        raise ValueError("no feature drift rows to summarize")
    drifted = features.filter(pl.col("drifted"))["feature"].to_list()
    share = len(drifted) / features.height
    outputs = predictions.filter(pl.col("drifted"))["feature"].to_list()
    too_many = share > policy.drifted_share_threshold
    reason = (
        f"{len(drifted)} of {features.height} features drifted ({share:.1%};"
        f" warns above {policy.drifted_share_threshold:.0%})"
    )
    reason += f"; predictions drifted: {', '.join(outputs)}" if outputs else "; predictions stable"
    return DriftSummary(
        drifted_features=drifted,
        drifted_share=share,
        prediction_drifted=outputs,
        warn=too_many or bool(outputs),
        reason=reason,
    )


def _compare(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    features: Sequence[Feature],
    policy: DriftPolicy,
    psi_threshold: float,
    what: str,
) -> pl.DataFrame:
    _check_frames(reference, current, [f.name for f in features], what)
    rows = [
        _numeric_row(reference, current, f, policy, psi_threshold)
        if _KINDS[f.dtype] == NUMERIC
        else _categorical_row(reference, current, f, policy)
        for f in features
    ]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _check_frames(
    reference: pl.DataFrame, current: pl.DataFrame, names: list[str], what: str
) -> None:
    if not names:
        raise ValueError(f"no {what} to compare")
    for side, frame in (("reference", reference), ("current", current)):
        if frame.is_empty():
            raise ValueError(f"the {side} frame is empty: nothing to compare {what} against")
    missing = {
        side: [n for n in names if n not in frame.columns]
        for side, frame in (("reference", reference), ("current", current))
    }
    if any(missing.values()):
        found = "; ".join(f"{side} frame lacks {cols}" for side, cols in missing.items() if cols)
        raise ValueError(f"{what} missing: {found}")


# -- numeric -------------------------------------------------------------------------------


def _numeric_row(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    feature: Feature,
    policy: DriftPolicy,
    psi_threshold: float,
) -> tuple:
    ref = _numeric_values(reference, feature.name, "reference")
    cur = _numeric_values(current, feature.name, "current")
    ref_present, cur_present = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref_present.size == 0 and cur_present.size == 0:
        # all null on both sides: nothing to compare and nothing changed
        psi, wasserstein = 0.0, 0.0
    else:
        psi = population_stability_index(ref, cur, policy.bins)
        wasserstein = None  # too few values to tell a move from sampling noise: PSI judges
        if min(ref_present.size, cur_present.size) >= policy.min_values:
            wasserstein = normalised_wasserstein(ref_present, cur_present)
    w_over = wasserstein is not None and wasserstein > policy.wasserstein_threshold
    # the deciding statistic: the one furthest above (or nearest to) its own threshold
    w_ratio = -1.0 if wasserstein is None else wasserstein / policy.wasserstein_threshold
    return (
        feature.name,
        NUMERIC,
        "psi" if psi / psi_threshold >= w_ratio else "wasserstein",
        psi,
        wasserstein,
        None,
        psi > psi_threshold or w_over,
        ref.size,
        cur.size,
        1 - ref_present.size / ref.size,
        1 - cur_present.size / cur.size,
    )


def _numeric_values(frame: pl.DataFrame, name: str, side: str) -> np.ndarray:
    """The column as float64, missing (null or NaN) as NaN; refuses non-numeric and infinite."""
    column = frame.get_column(name)
    if not (column.dtype.is_numeric() or column.dtype == pl.Null):
        raise ValueError(
            f"numeric feature {name!r} has the non-numeric dtype {column.dtype} in the {side} frame"
        )
    values = column.cast(pl.Float64).to_numpy()
    infinite = int(np.isinf(values).sum())
    if infinite:
        raise ValueError(
            f"numeric feature {name!r} has {infinite} infinite values in the {side} frame"
        )
    return values


def population_stability_index(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    """PSI of ``current`` against ``reference`` (NaN = missing, its own bin).

    Bins are cut at the reference's interior quantiles, duplicate edges merged (a discrete
    feature gets fewer bins), the outer bins open to -inf and +inf.
    """
    present = reference[~np.isnan(reference)]
    edges = (
        np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
        if present.size
        else np.empty(0)
    )
    expected, actual = _bin_shares(reference, edges), _bin_shares(current, edges)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    # bin 0 is (-inf, edges[0]), bin i is [edges[i-1], edges[i]), the last [edges[-1], +inf);
    # the missing values' bin comes after them
    index = np.searchsorted(edges, values[~missing], side="right")
    counts = np.append(np.bincount(index, minlength=edges.size + 1), missing.sum())
    return np.maximum(counts / values.size, EMPTY_BIN_SHARE)


def normalised_wasserstein(reference: np.ndarray, current: np.ndarray) -> float | None:
    """Wasserstein distance of the non-missing values over the reference's standard deviation.

    None when either side has no values; divided by 1 when the reference is constant.
    """
    if reference.size == 0 or current.size == 0:
        return None
    # a constant reference has no spread (its computed std may be rounding noise, not 0)
    scale = 1.0 if reference.min() == reference.max() else float(reference.std())
    return float(wasserstein_distance(reference, current)) / scale


# -- categorical ---------------------------------------------------------------------------


def _categorical_row(
    reference: pl.DataFrame, current: pl.DataFrame, feature: Feature, policy: DriftPolicy
) -> tuple:
    for side, frame in (("reference", reference), ("current", current)):
        _check_categorical_dtype(frame.get_column(feature.name).dtype, feature, side)
    counts = _category_counts(reference, current, feature.name)
    distance = js_distance(counts["reference"].to_numpy(), counts["current"].to_numpy())
    ref_nulls = reference.get_column(feature.name).null_count()
    cur_nulls = current.get_column(feature.name).null_count()
    return (
        feature.name,
        CATEGORICAL,
        "jensen_shannon",
        None,
        None,
        distance,
        distance > policy.js_threshold,
        reference.height,
        current.height,
        ref_nulls / reference.height,
        cur_nulls / current.height,
    )


def _check_categorical_dtype(dtype: pl.DataType, feature: Feature, side: str) -> None:
    # a bool given as 0/1 integers would cast to "0"/"1" and never match "true"/"false":
    # refuse it rather than report a drift that is only a change of encoding
    if dtype.base_type() not in _CATEGORICAL_DTYPES[feature.dtype]:
        raise ValueError(
            f"{feature.dtype} feature {feature.name!r} has the dtype {dtype} in the {side} frame"
        )


def _category_counts(reference: pl.DataFrame, current: pl.DataFrame, name: str) -> pl.DataFrame:
    """Rows of each side per category, over the union of both sides' categories (null one)."""
    both = pl.concat(
        [
            frame.select(pl.col(name).cast(pl.String).alias("category"), pl.lit(side).alias("side"))
            for side, frame in (("reference", reference), ("current", current))
        ]
    )
    # group_by keeps null as a group of its own: missingness is a category
    return both.group_by("category").agg(
        reference=(pl.col("side") == "reference").sum(),
        current=(pl.col("side") == "current").sum(),
    )


def js_distance(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Base-2 Jensen-Shannon distance between two count vectors over the same categories."""
    distance = float(jensenshannon(reference_counts, current_counts, base=2))
    # counts are finite, non-negative and sum above 0, so NaN can only be the square root
    # of a divergence rounded a hair below 0: identical distributions
    return 0.0 if np.isnan(distance) else distance
