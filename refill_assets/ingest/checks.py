"""Data-quality rules for an ingested extract over a range of delivery days.

Plain functions over the warehouse (no Dagster): each returns an ``Outcome``
that the Dagster layer turns into an asset check result. Per-day rules
compare each day with its own trailing seven days, so the same rule works
for a nightly partition and for an 18-month single-run backfill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.contract.raw_tables import RAW_TABLES

MIN_VALID_SHARE = 0.99  # required fields valid, blocking
# ...and at least this many invalid rows: one bad row of a 12-row nightly delta is noise (it is
# quarantined either way), not a broken feed worth stopping the night for
MIN_INVALID_TO_BLOCK = 3
MAX_QUARANTINE_RATE = 0.01  # any rule broken, warning
ROW_COUNT_BAND = (0.5, 2.0)  # a day outside [low, high] × trailing 7-day median warns
NULL_SPIKE = 0.20  # a day's null share above the trailing week's by this much warns
MIN_ROWS_FOR_SHARES = 20  # fewer rows in a day say nothing about null shares
MIN_MEDIAN_ROWS = 20  # a trailing median this small is noise: counts of 3 vs 7 mean nothing


@dataclass(frozen=True)
class Outcome:
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def schema(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> Outcome:
    """Files rejected whole in the range; fails when the extract's latest file was rejected.

    A rejected file followed by good ones is a one-off (reported, passes); a
    rejected latest file means the feed is broken now, and nothing downstream
    should be built on it.
    """
    files = con.execute(
        "SELECT _file, status, reason FROM raw.files WHERE extract = ? AND _dt BETWEEN ? AND ?"
        " ORDER BY _dt, _file",
        [extract, start, end],
    ).fetchall()
    rejected = {f: why for f, status, why in files if status == "rejected"}
    read = [f for f, status, _ in files if status != "duplicate"]
    broken_now = bool(read) and read[-1] in rejected
    drift = con.execute(
        "SELECT DISTINCT column_name FROM raw.schema_drift WHERE extract = ?"
        " AND _dt BETWEEN ? AND ? ORDER BY 1",
        [extract, start, end],
    ).fetchall()
    desc = (
        f"latest file rejected: {rejected[read[-1]]}"
        if broken_now
        else f"{len(read)} file(s) read, {len(rejected)} rejected whole and later recovered"
        if rejected
        else f"{len(read)} file(s) read, all with the required columns"
    )
    return Outcome(
        not broken_now,
        desc,
        {"rejected_files": rejected, "drift_columns": [c for (c,) in drift]},
    )


def valid_share(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> Outcome:
    """Share of rows whose required fields are all present and valid (≥ 99 %).

    Fails only with at least ``MIN_INVALID_TO_BLOCK`` invalid rows, so small feeds are not
    stopped by a single quarantined row.
    """
    required = list(EXTRACTS[extract].required)
    loaded, bad = con.execute(
        f"""
        SELECT
          (SELECT count(*) FROM raw.{extract} WHERE _dt BETWEEN $s AND $e),
          (SELECT count(*) FROM quarantine.rows WHERE extract = $x AND _dt BETWEEN $s AND $e
             AND (column_name IS NULL OR list_contains($req, column_name)))
        """,
        {"s": start, "e": end, "x": extract, "req": required},
    ).fetchone()
    others = _quarantined(con, extract, start, end) - bad
    total = loaded + bad + others
    share = 1.0 if total == 0 else (loaded + others) / total
    return Outcome(
        share >= MIN_VALID_SHARE or bad < MIN_INVALID_TO_BLOCK,
        f"{share:.4%} of {total} rows valid on required fields (min {MIN_VALID_SHARE:.0%}, "
        f"blocking from {MIN_INVALID_TO_BLOCK} invalid rows)",
        {"valid_share": share, "rows": total, "invalid_required": bad},
    )


def quarantine_rate(
    con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date
) -> Outcome:
    held = _quarantined(con, extract, start, end)
    loaded = con.execute(
        f"SELECT count(*) FROM raw.{extract} WHERE _dt BETWEEN ? AND ?", [start, end]
    ).fetchone()[0]
    rate = 0.0 if loaded + held == 0 else held / (loaded + held)
    reasons = con.execute(
        "SELECT regexp_replace(reason, ' ''.*$', '') AS why, count(*) FROM quarantine.rows"
        " WHERE extract = ? AND _dt BETWEEN ? AND ? GROUP BY why ORDER BY 2 DESC LIMIT 10",
        [extract, start, end],
    ).fetchall()
    return Outcome(
        rate <= MAX_QUARANTINE_RATE,
        f"{held} of {loaded + held} rows quarantined ({rate:.3%}, max {MAX_QUARANTINE_RATE:.0%})",
        {"quarantine_rate": rate, "top_reasons": dict(reasons)},
    )


def row_count(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> Outcome:
    """Each day's loaded rows against the median of its previous seven days.

    Days whose trailing median is under ``MIN_MEDIAN_ROWS`` are not judged.
    """
    low, high = ROW_COUNT_BAND
    days = con.execute(
        f"""
        WITH spine AS (
          SELECT unnest(generate_series($s::DATE - INTERVAL 7 DAY, $e::DATE, INTERVAL 1 DAY))::DATE
            AS d
        ), counts AS (
          SELECT spine.d, count(r._dt) AS n FROM spine LEFT JOIN raw.{extract} r ON r._dt = spine.d
          GROUP BY spine.d
        ), judged AS (
          SELECT d, n, median(n) OVER (ORDER BY d ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING) AS med
          FROM counts
        )
        SELECT d, n, med FROM judged
        WHERE d BETWEEN $s AND $e AND med >= $min_med AND (n < $low * med OR n > $high * med)
        ORDER BY d
        """,
        {"s": start, "e": end, "low": low, "high": high, "min_med": MIN_MEDIAN_ROWS},
    ).fetchall()
    flagged = {d.isoformat(): {"rows": n, "trailing_median": m} for d, n, m in days}
    return Outcome(
        not flagged,
        f"{len(flagged)} day(s) outside {low}–{high}× the trailing 7-day median row count",
        {"days_flagged": flagged},
    )


def null_spikes(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> Outcome:
    """Days where a column's null share jumps above its trailing week's."""
    cols = [c for c in RAW_TABLES[extract]]
    shares = ", ".join(f'avg(("{c}" IS NULL)::INT) AS "{c}"' for c in cols)
    rows = con.execute(
        f"""
        WITH daily AS (
          SELECT _dt AS d, count(*) AS n, {shares} FROM raw.{extract}
          WHERE _dt BETWEEN $s::DATE - INTERVAL 7 DAY AND $e GROUP BY _dt
        ), long AS (
          UNPIVOT daily ON {", ".join(f'"{c}"' for c in cols)} INTO NAME col VALUE share
        ), judged AS (
          SELECT d, n, col, share,
            avg(share) OVER (PARTITION BY col ORDER BY d
                             RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING)
              AS trailing_share
          FROM long
        )
        SELECT d, col, share, trailing_share FROM judged
        WHERE d BETWEEN $s AND $e AND n >= $min_rows AND share - trailing_share > $spike
        ORDER BY d, col
        """,
        {"s": start, "e": end, "min_rows": MIN_ROWS_FOR_SHARES, "spike": NULL_SPIKE},
    ).fetchall()
    spikes = [
        {"day": d.isoformat(), "column": c, "null_share": round(s, 4), "trailing": round(t, 4)}
        for d, c, s, t in rows
    ]
    return Outcome(
        not spikes,
        f"{len(spikes)} null spike(s) (a day's null share > trailing week's + {NULL_SPIKE:.0%})",
        {"spikes": spikes[:50]},
    )


def _quarantined(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> int:
    return con.execute(
        "SELECT count(*) FROM quarantine.rows WHERE extract = ? AND _dt BETWEEN ? AND ?",
        [extract, start, end],
    ).fetchone()[0]


# every extract's checks, in order: (name, rule, blocking); a failed blocking check stops
# everything downstream of the extract, the others warn
CHECKS = (
    ("schema", schema, True),
    ("required_fields_valid", valid_share, True),
    ("row_count_vs_trailing_week", row_count, False),
    ("null_spikes", null_spikes, False),
    ("quarantine_rate", quarantine_rate, False),
)
