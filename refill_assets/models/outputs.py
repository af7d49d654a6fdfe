"""The closed-form last step from model outputs to predictions, in NumPy only.

Shared by the native models and the inference service (``refill_assets.serving``), which
loads nothing of the training code: the same function turns the same numbers into the same
predictions on both paths.
"""

from __future__ import annotations

import numpy as np


def coherent(
    point: np.ndarray, p10: np.ndarray, p90: np.ndarray, lapse: np.ndarray
) -> dict[str, np.ndarray]:
    """Predictions made coherent, by prediction column.

    Days are clipped at 0 (a refill cannot be in the past), the interval is widened to
    contain the point (separately fitted quantiles can cross), and the probability is
    clipped to [0, 1].
    """
    point = np.clip(np.asarray(point, dtype=np.float64), 0.0, None)
    p10 = np.minimum(np.clip(np.asarray(p10, dtype=np.float64), 0.0, None), point)
    p90 = np.maximum(np.asarray(p90, dtype=np.float64), point)
    lapse = np.clip(np.asarray(lapse, dtype=np.float64), 0.0, 1.0)
    return {
        "predicted_days_to_refill": point,
        "p10_days": p10,
        "p90_days": p90,
        "lapse_probability": lapse,
    }


def aft_outputs(
    margin: np.ndarray, sigma: float, deadline_days: np.ndarray, horizon_days: float
) -> dict[str, np.ndarray]:
    """The AFT model's predictions from its margin: log T ~ N(margin, σ²) on whole days + 1.

    Timing quantiles are those of T given a refill within the horizon (minus half a day: the
    labels are whole days, [d, d + 1)); the lapse probability is P(T > the lapse deadline).
    """
    from scipy.special import log_ndtr, ndtr, ndtri_exp  # only the AFT path needs SciPy

    margin = np.asarray(margin, dtype=np.float64).ravel()
    # log P(T <= H): in logs, because a margin far above log H (a leaf of long-censored
    # rows) leaves a probability that underflows, and the conditional quantile must still
    # come out at most H (clamping it at a tiny floor instead put it at e^margin: 1e5 days)
    log_by_horizon = log_ndtr((np.log(horizon_days + 1) - margin) / sigma)

    def quantile(q: float) -> np.ndarray:
        t = np.exp(margin + sigma * ndtri_exp(np.log(q) + log_by_horizon))
        return np.maximum(t - 0.5, 0.0)

    deadline = np.asarray(deadline_days, dtype=np.float64)
    survival = 1.0 - ndtr((np.log(deadline + 1) - margin) / sigma)
    return coherent(quantile(0.5), quantile(0.1), quantile(0.9), survival)
