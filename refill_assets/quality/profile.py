"""Each delivery day of an extract in numbers, with the bounds its own history sets.

One row per delivery day of the window: rows loaded, rows quarantined and why, files
rejected, columns seen for the first time, missing shares of the columns that are due
(``completeness``), and for each number the bound a day may reach without a warning. The
bounds are what the history-based expectations compare against (``suites.extract_days``):

- rows below ``rows_min``: ``ROWS_LOW`` times the usual day, and no more than its ``ALPHA``
  Poisson quantile, so that a feed of a few rows a day is not judged by noise. The usual
  day is the lower of the median of the same weekday over the previous ``WEEKS`` weeks (a
  weekly rhythm is the norm) and the median of the previous seven days (a holiday season
  or a business that shrinks lowers it day by day). A third, not a half: public holidays
  take half a day's volume away (measured on the simulator's holiday windows: 0.46-0.49
  of the usual day), an outage or a lost file takes it all or most; judged once ``WEEKS``
  weeks of the extract are known (its first deliveries are often a bulk load);
- rows above ``rows_max``: ``ROWS_HIGH`` times the busiest day of the previous
  ``ENVELOPE_DAYS`` days, judged from ``SPIKE_WARMUP_DAYS`` of history on. Campaigns,
  newsletters and catch-up days after an outage are busy days a feed repeats, so only a day
  far beyond all of them warns; a monthly newsletter is inside the envelope from its second
  issue on, and its first falls in the warm-up;
- shares (invalid rows, quarantined rows, missing values) above a business threshold by
  more than chance explains (``_room``).

- a missed delivery (``missed_delivery``): no file at all on a day, yet rows that happened
  that day (by their own version timestamp) came in a later delivery. That is the
  contract's outage, and it shows in a feed of a few rows a day, whose row count cannot
  tell an outage from a quiet day (a quiet day has nothing to send late). Late rows come a
  day or two later, so the window's frame starts ``LATE_DAYS`` before it: those days are
  judged on this alone.

A day before the extract's first delivery is not a day of the extract; a day after it with
no delivery counts zero rows.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import binom, poisson

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.quality.completeness import DUE_WHEN, MAX_MISSING_SHARE

WEEKS = 4
ROWS_LOW = 1 / 3
ROWS_HIGH = 2.0
ALPHA = 1e-4
ENVELOPE_DAYS = 91
SPIKE_WARMUP_DAYS = 35
MAX_INVALID_SHARE = 0.01  # required fields valid on 99 % of rows (the Wave A criterion)
MAX_QUARANTINE_SHARE = 0.01  # any rule broken
HISTORY_DAYS = max(ENVELOPE_DAYS, 7 * WEEKS)
LATE_DAYS = 2  # how late the contract's rows may come: the days before a window still judged


def missing_column(column: str) -> str:
    return f"{column}_missing"


def extract_days(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date):
    """The window's days of ``extract`` (``pandas``, for GX), ``day`` ascending."""
    due = DUE_WHEN[extract]
    per_column = "".join(
        f', count(*) FILTER (WHERE {cond or "TRUE"}) AS "{c}__due"'
        f', count(*) FILTER (WHERE ({cond or "TRUE"}) AND "{c}" IS NULL) AS "{c}__null"'
        for c, cond in due.items()
    )
    carried = "".join(f', coalesce("{c}__due", 0) AS "{c}__due"' for c in due) + "".join(
        f', coalesce("{c}__null", 0) AS "{c}__null"' for c in due
    )
    version = EXTRACTS[extract].version_column
    event_day = f'CAST("{version}" AS DATE)'
    frame = con.execute(
        f"""
        WITH bounds AS (
          SELECT greatest($s::DATE - INTERVAL {HISTORY_DAYS} DAY, min(_dt))::DATE AS first_day
          FROM raw.files WHERE extract = $x
        ), spine AS (
          SELECT unnest(generate_series(first_day, $e::DATE, INTERVAL 1 DAY))::DATE AS day
          FROM bounds WHERE first_day IS NOT NULL
        ), loaded AS (
          SELECT _dt AS day, count(*) AS n{per_column} FROM raw.{extract}
          WHERE _dt >= (SELECT first_day FROM bounds) AND _dt <= $e GROUP BY _dt
        ), delivered AS (
          SELECT _dt AS day, count(*) AS files FROM raw.files
          WHERE extract = $x AND _dt >= (SELECT first_day FROM bounds) AND _dt <= $e
          GROUP BY _dt
        ), happened AS (
          SELECT {event_day} AS day, count(*) FILTER (WHERE _dt > {event_day}) AS late_rows
          FROM raw.{extract}
          WHERE {event_day} BETWEEN (SELECT first_day FROM bounds) AND $e GROUP BY 1
        ), counted AS (
          SELECT day, coalesce(n, 0) AS rows, coalesce(files, 0) AS files,
            coalesce(late_rows, 0) AS late_rows{carried}
          FROM spine LEFT JOIN loaded USING (day) LEFT JOIN delivered USING (day)
            LEFT JOIN happened USING (day)
        ), history AS (
          SELECT *,
            median(rows) OVER (PARTITION BY dayofweek(day) ORDER BY day
                               ROWS BETWEEN {WEEKS} PRECEDING AND 1 PRECEDING) AS weekday_median,
            count(*) OVER (PARTITION BY dayofweek(day) ORDER BY day
                           ROWS BETWEEN {WEEKS} PRECEDING AND 1 PRECEDING) AS weeks_seen,
            median(rows) OVER (ORDER BY day ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING)
              AS week_median,
            max(rows) OVER (ORDER BY day
                            ROWS BETWEEN {ENVELOPE_DAYS} PRECEDING AND 1 PRECEDING) AS recent_max,
            count(*) OVER (ORDER BY day
                           ROWS BETWEEN {ENVELOPE_DAYS} PRECEDING AND 1 PRECEDING) AS days_seen
          FROM counted
        ), held AS (
          SELECT _dt AS day, count(*) AS quarantined,
            count(*) FILTER (WHERE column_name IS NULL OR list_contains($req, column_name))
              AS invalid_required
          FROM quarantine.rows WHERE extract = $x AND _dt BETWEEN $s AND $e GROUP BY _dt
        ), files AS (
          SELECT _dt AS day, count(*) FILTER (WHERE status = 'rejected') AS files_rejected
          FROM raw.files WHERE extract = $x AND _dt BETWEEN $s AND $e GROUP BY _dt
        ), drift AS (
          SELECT first_seen AS day, count(*) AS new_columns FROM (
            SELECT column_name, min(_dt) AS first_seen FROM raw.schema_drift
            WHERE extract = $x GROUP BY column_name
          ) GROUP BY first_seen
        )
        SELECT history.*, coalesce(quarantined, 0) AS quarantined,
          coalesce(invalid_required, 0) AS invalid_required,
          coalesce(files_rejected, 0) AS files_rejected, coalesce(new_columns, 0) AS new_columns
        FROM history LEFT JOIN held USING (day) LEFT JOIN files USING (day)
          LEFT JOIN drift USING (day)
        WHERE day BETWEEN $s::DATE - INTERVAL {LATE_DAYS} DAY AND $e ORDER BY day
        """,
        {"s": start, "e": end, "x": extract, "req": list(EXTRACTS[extract].required)},
    ).df()
    return _with_bounds(frame, due, start, end)


def _with_bounds(frame: pd.DataFrame, due, start: date, end: date) -> pd.DataFrame:
    rows = frame["rows"].to_numpy(float)
    usual = frame[["weekday_median", "week_median"]].min(axis=1).to_numpy(float)
    recent = frame["recent_max"].to_numpy(float)
    judged_low = frame["weeks_seen"].to_numpy() >= WEEKS
    judged_high = frame["days_seen"].to_numpy() >= SPIKE_WARMUP_DAYS
    with np.errstate(invalid="ignore"):
        low = np.minimum(ROWS_LOW * usual, poisson.ppf(ALPHA, usual))
        high = np.maximum(ROWS_HIGH * recent, poisson.isf(ALPHA, recent))
    total = rows + frame["quarantined"].to_numpy(float)
    invalid = _share(frame["invalid_required"], total)
    day = pd.to_datetime(frame["day"])
    out = pd.DataFrame(
        {
            "day": day,
            "rows": rows,
            "rows_min": np.where(judged_low, low, np.nan),
            "rows_max": np.where(judged_high, high, np.nan),
            "invalid_share": invalid,
            "invalid_share_max": _room(MAX_INVALID_SHARE, total),
            # the same, on the window's last day only: what blocks is the state now
            "latest_invalid_share": np.where(day == pd.Timestamp(end), invalid, np.nan),
            "quarantine_share": _share(frame["quarantined"], total),
            "quarantine_share_max": _room(MAX_QUARANTINE_SHARE, total),
            "files_rejected": frame["files_rejected"].to_numpy(float),
            "new_columns": frame["new_columns"].to_numpy(float),
        }
    )
    for c in due:
        n_due = frame[f"{c}__due"].to_numpy(float)
        out[missing_column(c)] = _share(frame[f"{c}__null"], n_due)
        out[f"{missing_column(c)}_max"] = _room(MAX_MISSING_SHARE, n_due)
    # the days before the window: only their late rows are news (they came in the window)
    out.loc[out["day"] < pd.Timestamp(start), out.columns != "day"] = np.nan
    out["missed_delivery"] = (
        (frame["files"].to_numpy() == 0) & (frame["late_rows"].to_numpy() > 0)
    ).astype(float)
    return out


def _share(part: pd.Series, total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, part.to_numpy(float) / total, np.nan)


def _room(threshold: float, n: np.ndarray) -> np.ndarray:
    """The highest share ``n`` rows show, but for a chance of ``ALPHA``, when the truth is
    ``threshold`` (the exact binomial tail: 1 bad row in 5 is no evidence, 300 in 20,000 is)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, binom.isf(ALPHA, n, threshold) / np.maximum(n, 1), np.nan)
