"""What a SQL text reads: the warehouse relations it names, found by parsing it (sqlglot).

The packages that query the warehouse (features, reports) derive their lineage from
their own SQL texts with ``relations_read``, so it cannot drift from what they run.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

# DuckDB's schema for a name without one
DEFAULT_SCHEMA = "main"
# statements whose target table is written, not read
_WRITES = (exp.Insert, exp.Create, exp.Update, exp.Delete)


def relations_read(sql: str) -> frozenset[tuple[str, str]]:
    """The ``(schema, table)`` pairs the SQL text (one statement or several, DuckDB
    dialect) reads from: joins, subqueries and CTE bodies included; names of the
    text's own CTEs, table functions (``range(…)``, ``read_parquet(…)``) and the
    targets of writes left out. A name without a schema is in ``main``."""
    found: set[tuple[str, str]] = set()
    for statement in sqlglot.parse(sql, dialect="duckdb"):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier):  # a table function
                continue
            if _is_cte(table) or _is_written(table):
                continue
            found.add((table.db or DEFAULT_SCHEMA, table.name))
    return frozenset(found)


def _is_cte(table: exp.Table) -> bool:
    """An unqualified name that a WITH around it defines."""
    if table.db:
        return False
    scope = table.parent
    while scope is not None:
        if isinstance(scope, exp.Query) and any(cte.alias == table.name for cte in scope.ctes):
            return True
        scope = scope.parent
    return False


def _is_written(table: exp.Table) -> bool:
    target = table.parent if isinstance(table.parent, exp.Schema) else table
    return isinstance(target.parent, _WRITES) and target.arg_key == "this"
