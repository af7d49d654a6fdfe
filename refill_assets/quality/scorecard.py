"""``quality.scorecard``: day × dataset × expectation, success and observed value.

Each validation replaces its suite's rows for the days it judged, so a re-run of a
partition leaves the table as one run would. Analysts query it from the published copy.
"""

from __future__ import annotations

import duckdb
import polars as pl

from refill_assets.quality.verdict import Verdict

TABLE = "quality.scorecard"


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = 'quality' AND table_name = 'scorecard'"
        ).fetchone()[0]
    )


def record(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict]) -> int:
    """Writes the verdicts' rows in one transaction; returns how many."""
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (day DATE, dataset VARCHAR, suite VARCHAR,"
        " expectation VARCHAR, severity VARCHAR, success BOOLEAN, observed_value DOUBLE,"
        " page VARCHAR)"
    )
    rows = pl.concat([v.scorecard for v in verdicts])
    if rows.is_empty():
        return 0
    con.execute("BEGIN")
    try:
        con.execute(
            f"DELETE FROM {TABLE} s USING (SELECT DISTINCT suite, expectation, day FROM rows) r"
            " WHERE s.suite = r.suite AND s.expectation = r.expectation AND s.day = r.day"
        )
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return rows.height
