"""The oracle: what the simulator knew about each fill's next refill, given the wait.

The simulator's truth (``refill_simulator.truth``) keeps, per fill F,
64 draws of its own generative step from F's state: the days from F to the
next fill (``draw_gap_days``, sorted, ``STOP_DRAW`` = -1 where the draw ends
the prescription). An example on as-of day D after F has waited
w = D − F's fill date days, and its row exists only because no later fill
was known: the refill comes on day w or later (the as-of day can be the
refill day itself, ``days_to_refill`` = 0, as a fill is known only once
delivered). So the oracle conditions the draws on gap ≥ w:

- days to refill: p10/p50/p90 of (gap − w) over the refill draws with
  gap ≥ w, linearly interpolated as ``np.quantile`` does (and as the stored
  summaries are). The point is the p50: a median minimises the expected
  absolute error, and with an even count the interpolated one lies between
  the two middle draws, where every value minimises it; the refill branch
  only, because the timing metrics score rows with an observed refill.
- lapse probability: the share of the *waiting* draws (stops, and refills
  with gap ≥ w) that lapse: stop, or gap > days_supply + 30 (the contract).
  Once w > days_supply + 30 every waiting draw lapses: probability 1.

Fallback, when the draws run out (w beyond nearly all of them): with fewer
than ``MIN_DRAWS`` (5) refill draws at gap ≥ w, the timing uses the
``MIN_DRAWS`` largest refill draws (all of them, if fewer), a draw already
past counting as a refill today (remaining max(gap − w, 0)); with fewer than
``MIN_DRAWS`` waiting draws, the lapse share is taken over the
``MIN_DRAWS`` latest draws (stops first, then the largest gaps), a draw
already past counting as a fill on day w. This is the tail of the law, not
its conditional: 64 draws cannot say more there. At w = 0 both are the
fill-day distribution, exactly the stored ``true_*`` summaries.

Rows whose last fill the truth lacks, or whose fill has no refill draw at all
(the prescription cannot continue), have no oracle (``has_truth`` false). A
truth written before the draws were stored (no ``draw_gap_days``) gives the
fill-day oracle: the stored quantiles shifted by the wait, the fill-day lapse
probability. Only simulated worlds have an oracle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.rules import LAPSE_GRACE_DAYS
from refill_assets.models.schema import prediction_frame

DRAWS_COLUMN = "draw_gap_days"  # as refill_simulator.truth writes them
STOP_DRAW = -1  # a draw that ends the prescription (simulator.truth.STOP_DRAW)
MIN_DRAWS = 5  # fewer draws than this at the wait: fall back to the latest draws
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
SUMMARY_COLUMNS = ("true_p10_days", "true_p50_days", "true_p90_days", "true_lapse_probability")
TRUTH_COLUMNS = ("order_id", "days_supply", *SUMMARY_COLUMNS)


def read_truth(folder: Path) -> pl.DataFrame | None:
    """The truth columns the oracle reads (with the draws where the truth has them)."""
    path = folder / "next_fill.parquet"
    if not path.exists():
        return None
    names = pl.read_parquet_schema(path)
    return pl.read_parquet(path, columns=[c for c in (*TRUTH_COLUMNS, DRAWS_COLUMN) if c in names])


def oracle_predictions(
    frame: pl.DataFrame, truth: pl.DataFrame, min_draws: int = MIN_DRAWS
) -> pl.DataFrame:
    """Predictions for the rows of ``frame`` whose last fill the truth knows, and a mask.

    ``frame`` needs ``last_order_id``, ``last_fill_date`` and ``as_of_date``. Returns
    ``frame``'s rows (same order) with the prediction columns and a boolean ``has_truth``
    column (zeros where there is no truth; filter on ``has_truth``).
    """
    if DRAWS_COLUMN not in truth.columns:
        return _fill_day_oracle(frame, truth)
    keys = truth.select("order_id").with_row_index("_truth_row").unique("order_id", keep="first")
    rows = frame.select("last_order_id").join(
        keys, left_on="last_order_id", right_on="order_id", how="left", maintain_order="left"
    )["_truth_row"]
    known = rows.is_not_null().to_numpy()
    waited = (frame["as_of_date"] - frame["last_fill_date"]).dt.total_days().to_numpy()
    draws = _draw_matrix(truth[DRAWS_COLUMN])
    idx = rows.drop_nulls().to_numpy()
    days, lapse, has_draws = conditional(
        draws[idx],
        np.clip(waited[known], 0, None),
        truth["days_supply"].to_numpy()[idx],
        min_draws,
    )
    out = {q: np.zeros(frame.height) for q in QUANTILES}
    for q in QUANTILES:
        out[q][known] = days[q]
    lapse_all = np.zeros(frame.height)
    lapse_all[known] = lapse
    has_truth = np.zeros(frame.height, dtype=bool)
    has_truth[known] = has_draws
    pred = prediction_frame(out["p50"], out["p10"], out["p90"], lapse_all)
    return pred.with_columns(has_truth=pl.Series(has_truth))


def conditional(
    draws: np.ndarray, waited: np.ndarray, days_supply: np.ndarray, min_draws: int = MIN_DRAWS
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The conditional oracle on arrays: one row per example.

    ``draws``: (rows, n) gaps in days, ``STOP_DRAW`` for a stop; ``waited``: w >= 0 per row;
    ``days_supply`` per row. Returns the remaining-days quantiles (``QUANTILES`` keys), the
    lapse probability, and whether the row has any refill draw (quantiles are 0 where not).
    See the module doc for the conditioning and the fallback.
    """
    # Int16 throughout (gaps and waits are days; ~1M rows x 64 draws stay small)
    g = np.sort(np.asarray(draws, dtype=np.int16), axis=1)  # stops first, then gaps ascending
    m, n = g.shape
    w = np.minimum(waited, np.iinfo(np.int16).max).astype(np.int16)[:, None]
    n_stop = (g == STOP_DRAW).sum(axis=1)
    n_refill = n - n_stop
    n_ge = (g >= w).sum(axis=1)  # refill draws still possible on day w (stops are -1 < w)
    col = np.arange(n)

    # timing: a suffix of each sorted row, the refill draws at gap >= w or the latest ones
    used = np.where(n_ge >= min_draws, n_ge, np.minimum(min_draws, n_refill))
    remaining = np.maximum(g - w, 0)
    rows = np.arange(m)
    days = {}
    for name, q in QUANTILES.items():
        pos = (n - used) + q * np.maximum(used - 1, 0)
        lo = np.minimum(np.floor(pos).astype(np.int64), n - 1)
        hi = np.minimum(lo + 1, n - 1)
        a, b = remaining[rows, lo], remaining[rows, hi]
        value = a + (pos - lo) * np.where(hi > lo, b - a, 0)
        days[name] = np.where(used > 0, value, 0.0)

    # lapse: the stops plus a suffix of refill draws (those at gap >= w, or the latest ones)
    waiting = n_stop + n_ge
    late = np.where(waiting >= min_draws, n_ge, np.minimum(min_draws, n) - n_stop)
    in_set = col[None, :] >= (n - late)[:, None]
    threshold = (np.asarray(days_supply, dtype=np.int16) + LAPSE_GRACE_DAYS)[:, None]
    lapsing = (in_set & (np.maximum(g, w) > threshold)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lapse = np.where(n > 0, (n_stop + lapsing) / (n_stop + late), 0.0)
    return days, lapse, n_refill > 0


def _draw_matrix(column: pl.Series) -> np.ndarray:
    """The list column of draws as a (fills, draws) Int16 matrix (every list the same length)."""
    lengths = column.list.len().unique()
    if lengths.len() > 1:
        raise ValueError(f"{DRAWS_COLUMN}: lists of several lengths {lengths.to_list()}")
    n = int(lengths[0]) if lengths.len() else 0
    return column.list.to_array(n).to_numpy().astype(np.int16).reshape(len(column), n)


def _fill_day_oracle(frame: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """A truth without draws: its fill-day quantiles shifted by the wait, unconditioned."""
    joined = frame.select("last_order_id", "last_fill_date", "as_of_date").join(
        truth, left_on="last_order_id", right_on="order_id", how="left", maintain_order="left"
    )
    waited = (pl.col("as_of_date") - pl.col("last_fill_date")).dt.total_days()
    days = joined.select(
        has_truth=pl.col("true_p50_days").is_not_null(),
        **{q: (pl.col(f"true_{q}_days") - waited).fill_null(0.0) for q in QUANTILES},
        lapse=pl.col("true_lapse_probability").fill_null(0.0),
    )
    pred = prediction_frame(
        days["p50"].to_numpy(),
        days["p10"].to_numpy(),
        days["p90"].to_numpy(),
        days["lapse"].to_numpy(),
    )
    return pred.with_columns(has_truth=days["has_truth"])
