"""The file-level rule of an ingested extract: is its latest delivery readable?

A plain function over the warehouse (no Dagster) that returns an ``Outcome`` the Dagster
layer turns into an asset check result. The rules on rows and days are expectation
suites (``refill_assets.quality``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb


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
