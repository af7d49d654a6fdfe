"""Reading a suite's frame from DuckDB: only its columns, in the cheapest pandas form.

Moving millions of rows into pandas is most of what a window's validation costs (the large
world's 18 months of orders: 2.2 M rows), so the select list shapes each column for what its
expectations ask of it and nothing more:

- a column the suite computes (``suites.COMPUTED``) by its expression;
- a column in ``presence`` (ids, names: presence is all their suite checks) as 1 or null;
- a text column of few values (statuses, classes, NDCs) as an ENUM of them, which pandas
  gets as a categorical: codes, not millions of strings; set and pattern checks give the
  same answers on it;
- an integer column as a double: a nullable integer column takes pandas' masked path, ten
  times slower to range-check (exact below 2**53).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from refill_assets.quality.suites import COMPUTED

INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)
MAX_ENUM_VALUES = 2000


def read(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[str],
    where: str,
    params: dict,
    presence: set[str] = frozenset(),
) -> pd.DataFrame:
    """``columns`` of ``relation``'s rows matching ``where`` (with ``params``)."""
    types = dict(
        con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {relation})").fetchall()
    )
    text = [c for c in columns if types.get(c) == "VARCHAR" and c not in presence | COMPUTED.keys()]
    values = _few_values(con, relation, text, where, params)

    def one(c: str) -> str:
        if c in COMPUTED:
            return f'{COMPUTED[c]} AS "{c}"'
        if c in presence:
            return f'CASE WHEN "{c}" IS NOT NULL THEN 1 END::TINYINT AS "{c}"'
        if c in values:
            return f'"{c}"::ENUM({", ".join(_literal(v) for v in values[c])}) AS "{c}"'
        if types.get(c, "") in INTEGERS:
            return f'"{c}"::DOUBLE AS "{c}"'
        return f'"{c}"'

    select = ", ".join(one(c) for c in columns)
    return con.execute(f"SELECT {select} FROM {relation} WHERE {where}", params).df()


def _few_values(con, relation: str, text: list[str], where: str, params: dict) -> dict:
    """The distinct values of each ``text`` column that has at most ``MAX_ENUM_VALUES``."""
    if not text:
        return {}
    lists = ", ".join(
        f'CASE WHEN approx_count_distinct("{c}") <= {MAX_ENUM_VALUES}'
        f' THEN list(DISTINCT "{c}") FILTER (WHERE "{c}" IS NOT NULL) END'
        for c in text
    )
    found = con.execute(f"SELECT {lists} FROM {relation} WHERE {where}", params).fetchone()
    # an ENUM needs one value at least; an empty or all-null column stays text
    return {c: v for c, v in zip(text, found, strict=True) if v}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
