"""outputs: the closed-form last step the models and the service share."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from refill_assets.models.outputs import aft_outputs, coherent

H = 120.0


def test_aft_quantiles_are_those_of_the_lognormal_given_a_refill_within_the_horizon():
    margin, sigma = np.array([2.0, 3.5, 4.2]), 0.4
    out = aft_outputs(margin, sigma, np.array([10.0, 40.0, 80.0]), H)
    within = norm.cdf((np.log(H + 1) - margin) / sigma)
    for column, q in (("p10_days", 0.1), ("predicted_days_to_refill", 0.5), ("p90_days", 0.9)):
        expected = np.exp(margin + sigma * norm.ppf(q * within)) - 0.5
        assert np.allclose(out[column], expected, rtol=1e-9)
    survival = 1 - norm.cdf((np.log(np.array([10.0, 40.0, 80.0]) + 1) - margin) / sigma)
    assert np.allclose(out["lapse_probability"], survival)


def test_a_margin_far_past_the_horizon_still_gives_days_within_it():
    # a leaf of long-censored rows: P(T <= H) underflows in plain floats
    out = aft_outputs(np.array([25.0, 60.0]), 0.3, np.array([30.0, 30.0]), H)
    for column in ("p10_days", "predicted_days_to_refill", "p90_days"):
        assert np.all(out[column] <= H + 0.5) and np.all(out[column] > H - 10)
    assert np.all(out["p10_days"] <= out["predicted_days_to_refill"])
    assert np.allclose(out["lapse_probability"], 1.0)


def test_coherent_orders_and_clips():
    out = coherent(np.array([-1.0, 5.0]), np.array([2.0, 6.0]), np.array([1.0, 4.0]), [1.2, -0.1])
    assert out["predicted_days_to_refill"].tolist() == [0.0, 5.0]
    assert out["p10_days"].tolist() == [0.0, 5.0] and out["p90_days"].tolist() == [1.0, 5.0]
    assert out["lapse_probability"].tolist() == [1.0, 0.0]
