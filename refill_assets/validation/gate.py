"""The champion/challenger gate: may the challenger replace the champion?

Two rules, both on the temporal holdout:
1. the challenger's MAE beats the heuristic's by at least ``margin`` (a
   share: 0.10 = 10 % lower);
2. against the current champion, no *large* segment (≥ ``min_rows`` rows)
   gets worse by more than ``tolerance`` (a share of the champion's MAE).
With no current champion only rule 1 applies, and a challenger that misses it
leaves the heuristic baseline as the first champion (``fallback``): the nightly
scores never wait for a model to earn its place, and the baseline is what any
challenger has to beat anyway. The decision carries every reason, for metadata
and MLflow.

The gate never decides on a figure that is not a finite number (a NaN MAE compares false
with everything and would quietly keep whatever serves): such a decision is
``undecided``, promotes nothing, and the blocking check that reports it fails.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import polars as pl

BASELINE = "heuristic"


@dataclass(frozen=True)
class GatePolicy:
    margin: float = 0.10
    tolerance: float = 0.05
    min_rows: int = 500


@dataclass(frozen=True)
class Decision:
    promoted: bool
    challenger: str
    champion: str | None
    reasons: list[str] = field(default_factory=list)
    regressions: list[dict] = field(default_factory=list)
    fallback: str | None = None  # promoted instead of the challenger (no champion yet)
    undecided: str | None = None  # why no decision could be made (nothing promoted)

    def as_dict(self) -> dict:
        return asdict(self)


def decide(
    challenger: str,
    challenger_mae: float,
    heuristic_mae: float,
    challenger_segments: pl.DataFrame,
    champion: str | None = None,
    champion_segments: pl.DataFrame | None = None,
    policy: GatePolicy = GatePolicy(),  # noqa: B008 - frozen, never mutated
) -> Decision:
    """Segments frames: ``metrics.by_segment`` output (segment, value, rows, mae_days, …)."""
    figures = {f"{challenger} MAE": challenger_mae, f"{BASELINE} MAE": heuristic_mae}
    missing = [f"{name} is {value}" for name, value in figures.items() if not math.isfinite(value)]
    if missing:
        return undecided(challenger, champion, "; ".join(missing))
    reasons = []
    needed = heuristic_mae * (1 - policy.margin)
    beats = challenger_mae <= needed
    reasons.append(
        f"MAE {challenger_mae:.3f} vs heuristic {heuristic_mae:.3f}: "
        f"{'meets' if beats else 'misses'} the {policy.margin:.0%} margin (≤ {needed:.3f})"
    )
    regressions = []
    if champion is not None and champion_segments is not None and champion != challenger:
        regressions = _regressions(challenger_segments, champion_segments, policy)
        reasons.append(
            f"{len(regressions)} large segment(s) worse than champion {champion} "
            f"by more than {policy.tolerance:.0%}"
        )
    promoted = beats and not regressions
    fallback = None
    if not promoted and champion is None:
        fallback = BASELINE
        reasons.append(f"no champion yet: the {BASELINE} baseline serves until a challenger passes")
    return Decision(promoted, challenger, champion, reasons, regressions, fallback)


def _regressions(new: pl.DataFrame, old: pl.DataFrame, policy: GatePolicy) -> list[dict]:
    joined = new.select("segment", "value", "rows", "mae_days").join(
        old.select("segment", "value", champion_mae="mae_days"), on=["segment", "value"]
    )
    worse = joined.filter(
        (pl.col("rows") >= policy.min_rows)
        & (pl.col("mae_days") > pl.col("champion_mae") * (1 + policy.tolerance))
    )
    return worse.to_dicts()


def undecided(challenger: str, champion: str | None, why: str) -> Decision:
    """No decision: nothing is promoted, and the gate's check fails with ``why``."""
    reason = f"no decision: {why}"
    return Decision(False, challenger, champion, [reason], undecided=reason)
