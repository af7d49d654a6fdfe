"""The data-quality dashboard: ``REFILL_HOME/reports/quality/index.html``.

One self-contained page from ``quality.scorecard``: each dataset's latest day, a grid of
the last ``DAYS_SHOWN`` days (green: every expectation held; amber: a warning failed; red:
a critical one failed), and the failed expectations with their observed values, linked to
the GX Data Docs pages of each dataset's latest validation (``gx/``), which show every
expectation of a run. GX's own index is not the entry page: it draws its tables with
JavaScript from public CDNs, so it opens empty on a machine without internet, and it lists
only the latest validation results.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from refill_assets.quality.scorecard import TABLE
from refill_assets.storage.files import write_bytes_atomic

DAYS_SHOWN = 60
COLOURS = {"ok": "#3c9a5f", "warning": "#e0a106", "critical": "#c9352b"}
STYLE = (
    "body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    ".grid td{width:9px;height:14px;padding:0;border:1px solid #fff}"
    ".grid th{font-weight:normal;white-space:nowrap;border:none;padding-right:8px}"
)


def write(con: duckdb.DuckDBPyConnection, docs: Path) -> Path:
    """Writes the page from the scorecard; returns its path."""
    latest = con.execute(
        f"""
        WITH pages AS (
          SELECT dataset, suite, arg_max(page, day) AS page FROM {TABLE} GROUP BY ALL
        )
        SELECT dataset, max(day) AS day,
          (SELECT list(page ORDER BY suite) FROM pages p WHERE p.dataset = s.dataset) AS pages
        FROM {TABLE} s GROUP BY dataset ORDER BY dataset
        """
    ).fetchall()
    days = con.execute(
        f"""
        SELECT dataset, day,
          CASE WHEN bool_or(NOT success AND severity = 'critical') THEN 'critical'
               WHEN bool_or(NOT success) THEN 'warning' ELSE 'ok' END AS state,
          string_agg(DISTINCT CASE WHEN NOT success THEN expectation END, ', ') AS failed
        FROM {TABLE}
        WHERE day > (SELECT max(day) FROM {TABLE}) - INTERVAL {DAYS_SHOWN} DAY
        GROUP BY ALL ORDER BY dataset, day
        """
    ).fetchall()
    failures = con.execute(
        f"""
        SELECT day, dataset, expectation, severity, observed_value FROM {TABLE}
        WHERE NOT success AND day > (SELECT max(day) FROM {TABLE}) - INTERVAL {DAYS_SHOWN} DAY
        ORDER BY day DESC, severity, dataset, expectation LIMIT 300
        """
    ).fetchall()
    states = {(d, day): (state, failed) for d, day, state, failed in days}
    page = "".join(
        [
            f"<!doctype html><html><head><meta charset='utf-8'><title>Data quality</title>"
            f"<style>{STYLE}</style></head><body><h1>Data quality</h1>",
            f"<p>From <code>{TABLE}</code>, written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
            f"Every expectation of every run: <a href='gx/index.html'>GX Data Docs</a>.</p>",
            _latest(latest, states, docs),
            _grid(sorted({d for d, *_ in latest}), sorted({day for _, day, *_ in days}), states),
            _failures(failures),
            "</body></html>",
        ]
    )
    return write_bytes_atomic(page.encode(), docs / "index.html")


def _latest(latest, states, docs: Path) -> str:
    rows = []
    for dataset, day, pages in latest:
        state, failed = states.get((dataset, day), ("ok", None))
        pages = [Path(p) for p in pages if p]
        links = " ".join(
            f"<a href='{html.escape(_href(p, docs))}'>{html.escape(p.parents[2].name)}</a>"
            for p in pages
        )
        rows.append(
            f"<tr><td>{html.escape(dataset)}</td><td>{day}</td>"
            f"<td style='color:{COLOURS[state]}'>{state}</td>"
            f"<td>{html.escape(failed or '')}</td><td>{links}</td></tr>"
        )
    return (
        "<h2>Latest day of each dataset</h2><table><tr><th>dataset</th><th>day</th>"
        "<th>state</th><th>failed expectations</th><th>latest validation (GX)</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _href(page: Path, docs: Path) -> str:
    return str(page.relative_to(docs)) if page.is_relative_to(docs) else page.as_uri()


def _grid(datasets: list[str], days: list, states) -> str:
    head = "".join(f"<th title='{d}'></th>" for d in days)
    rows = []
    for dataset in datasets:
        cells = []
        for day in days:
            state, failed = states.get((dataset, day), (None, None))
            colour = COLOURS.get(state, "#eee")
            tip = html.escape(f"{day}: {failed or state or 'not judged'}")
            cells.append(f"<td style='background:{colour}' title='{tip}'></td>")
        rows.append(f"<tr><th>{html.escape(dataset)}</th>{''.join(cells)}</tr>")
    span = f"{days[0]} … {days[-1]}" if days else "no day judged yet"
    return (
        f"<h2>Last {DAYS_SHOWN} days ({span})</h2><p>Green: every expectation held; amber: a "
        "warning failed; red: a critical expectation failed; grey: not judged. Hover a day "
        f"for what failed.</p><table class='grid'><tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def _failures(failures) -> str:
    rows = "".join(
        f"<tr><td>{day}</td><td>{html.escape(d)}</td><td>{html.escape(e)}</td>"
        f"<td style='color:{COLOURS[s]}'>{s}</td><td>{'' if v is None else f'{v:.4g}'}</td></tr>"
        for day, d, e, s, v in failures
    )
    return (
        f"<h2>Failed expectations, last {DAYS_SHOWN} days</h2><table><tr><th>day</th>"
        "<th>dataset</th><th>expectation</th><th>severity</th><th>observed value</th></tr>"
        f"{rows or '<tr><td colspan=5>none</td></tr>'}</table>"
    )
