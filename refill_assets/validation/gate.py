"""The champion/challenger gate: may the challenger replace the champion?

The outreach reads two things from every score: the predicted refill day (when to
contact) and the lapse probability (which owners get the longer lead and the likely-lapse
list). The gate judges both, on the temporal holdout:

1. **timing**: the challenger's MAE beats the heuristic's by at least ``margin`` (a share:
   0.10 = 10 % lower);
2. **lapse**: its lapse ROC-AUC is not below the heuristic's by more than
   ``lapse_auc_tolerance`` and its Brier score not above the heuristic's by more than
   ``lapse_brier_tolerance`` (a share). Timing must clearly win, lapse must not lose: the
   timing MAE is measured on many refills and is the reason to replace a model, while a
   lapse figure rests on fewer decided rows and moves by a point or two between holdouts.
   AUC guards the ranking the likely-lapse list uses, Brier the calibration the 14-day
   lead's threshold (``outreach.plan``) uses;
3. against the current champion (re-scored on the same test rows), no *large* segment
   (≥ ``min_rows`` rows) gets a timing MAE worse by more than ``tolerance`` (a share of the
   champion's), and the overall lapse AUC does not drop by more than
   ``lapse_auc_tolerance``.
With no current champion rules 1 and 2 apply, and a challenger that misses them leaves the
heuristic baseline as the first champion (``fallback``): the nightly scores never wait for
a model to earn its place, and the baseline is what any challenger has to beat anyway. The
decision carries every reason and every figure it read, for metadata, MLflow and the report.

The gate never decides on a figure that is not a finite number (a NaN MAE compares false
with everything and would quietly keep whatever serves; a holdout with no decided lapse, or
only one kind, has no AUC): such a decision is ``undecided``, promotes nothing, and the
blocking check that reports it fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import polars as pl

BASELINE = "heuristic"


@dataclass(frozen=True)
class GatePolicy:
    margin: float = 0.10
    tolerance: float = 0.05
    min_rows: int = 500
    lapse_auc_tolerance: float = 0.01
    lapse_brier_tolerance: float = 0.05


@dataclass(frozen=True)
class Figures:
    """What the gate reads of one model on the holdout (``metrics.evaluate`` keys)."""

    mae_days: float
    lapse_roc_auc: float
    lapse_brier: float

    @classmethod
    def of(cls, metrics: Mapping) -> Figures:
        return cls(*(float(metrics[f.name]) for f in fields(cls)))


@dataclass(frozen=True)
class Decision:
    promoted: bool
    challenger: str
    champion: str | None
    reasons: list[str] = field(default_factory=list)
    regressions: list[dict] = field(default_factory=list)
    fallback: str | None = None  # promoted instead of the challenger (no champion yet)
    undecided: str | None = None  # why no decision could be made (nothing promoted)
    figures: dict[str, dict] = field(default_factory=dict)  # challenger/heuristic/champion

    def as_dict(self) -> dict:
        return asdict(self)


def decide(
    challenger: str,
    challenger_figures: Figures,
    heuristic_figures: Figures,
    challenger_segments: pl.DataFrame,
    champion: str | None = None,
    champion_segments: pl.DataFrame | None = None,
    champion_figures: Figures | None = None,
    policy: GatePolicy = GatePolicy(),  # noqa: B008 - frozen, never mutated
) -> Decision:
    """Segments frames: ``metrics.by_segment`` output (segment, value, rows, mae_days, …).

    ``champion_segments`` and ``champion_figures``: the current champion re-scored on the
    same rows (either may be None when it could not be)."""
    read = {
        "challenger": (challenger, challenger_figures),
        "heuristic": (BASELINE, heuristic_figures),
    }
    if champion is not None and champion_figures is not None and champion != challenger:
        read["champion"] = (champion, champion_figures)
    figures = {role: asdict(f) for role, (_, f) in read.items()}
    missing = [
        f"{name} {metric} is {value}"
        for name, f in read.values()
        for metric, value in asdict(f).items()
        if not math.isfinite(value)
    ]
    if missing:
        return undecided(challenger, champion, "; ".join(missing), figures)
    c, h = challenger_figures, heuristic_figures
    reasons = []
    needed = h.mae_days * (1 - policy.margin)
    beats = c.mae_days <= needed
    reasons.append(
        f"MAE {c.mae_days:.3f} vs heuristic {h.mae_days:.3f}: "
        f"{'meets' if beats else 'misses'} the {policy.margin:.0%} margin (≤ {needed:.3f})"
    )
    lapse_ok = _lapse_holds(c, h, "heuristic", policy, reasons, brier=True)
    regressions = []
    if champion is not None and champion != challenger:
        if champion_segments is not None:
            regressions = _regressions(challenger_segments, champion_segments, policy)
            reasons.append(
                f"{len(regressions)} large segment(s) worse than champion {champion} "
                f"by more than {policy.tolerance:.0%}"
            )
        if champion_figures is not None:
            lapse_ok &= _lapse_holds(c, champion_figures, champion, policy, reasons, brier=False)
    promoted = beats and lapse_ok and not regressions
    fallback = None
    if not promoted and champion is None:
        fallback = BASELINE
        reasons.append(f"no champion yet: the {BASELINE} baseline serves until a challenger passes")
    return Decision(promoted, challenger, champion, reasons, regressions, fallback, None, figures)


def _lapse_holds(
    c: Figures, other: Figures, name: str, policy: GatePolicy, reasons: list[str], brier: bool
) -> bool:
    """Rule 2 (and the champion's AUC guard): appends its reason, returns whether it holds."""
    auc_floor = other.lapse_roc_auc - policy.lapse_auc_tolerance
    auc_ok = c.lapse_roc_auc >= auc_floor
    reasons.append(
        f"lapse AUC {c.lapse_roc_auc:.3f} vs {name} {other.lapse_roc_auc:.3f}: "
        f"{'holds' if auc_ok else 'falls below'} the floor {auc_floor:.3f}"
    )
    if not brier:
        return auc_ok
    brier_ceiling = other.lapse_brier * (1 + policy.lapse_brier_tolerance)
    brier_ok = c.lapse_brier <= brier_ceiling
    reasons.append(
        f"lapse Brier {c.lapse_brier:.4f} vs {name} {other.lapse_brier:.4f}: "
        f"{'holds' if brier_ok else 'exceeds'} the ceiling {brier_ceiling:.4f}"
    )
    return auc_ok and brier_ok


def _regressions(new: pl.DataFrame, old: pl.DataFrame, policy: GatePolicy) -> list[dict]:
    joined = new.select("segment", "value", "rows", "mae_days").join(
        old.select("segment", "value", champion_mae="mae_days"), on=["segment", "value"]
    )
    worse = joined.filter(
        (pl.col("rows") >= policy.min_rows)
        & (pl.col("mae_days") > pl.col("champion_mae") * (1 + policy.tolerance))
    )
    return worse.to_dicts()


def undecided(
    challenger: str, champion: str | None, why: str, figures: dict | None = None
) -> Decision:
    """No decision: nothing is promoted, and the gate's check fails with ``why``."""
    reason = f"no decision: {why}"
    return Decision(False, challenger, champion, [reason], undecided=reason, figures=figures or {})
