"""A self-contained HTML page of titled sections with plotly figures and small tables.

plotly.js is embedded once (no CDN: the page must open on an air-gapped machine).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import polars as pl


@dataclass
class Section:
    title: str
    text: str = ""
    figures: list[go.Figure] = field(default_factory=list)
    tables: list[pl.DataFrame] = field(default_factory=list)


def table_html(frame: pl.DataFrame, max_rows: int = 40) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))


def write_page(path: Path, title: str, sections: list[Section]) -> Path:
    parts, first_figure = [], True
    for s in sections:
        parts.append(f"<section><h2>{html.escape(s.title)}</h2><p>{html.escape(s.text)}</p>")
        for fig in s.figures:
            fig.update_layout(height=380, margin=dict(l=40, r=20, t=40, b=40))
            parts.append(fig.to_html(full_html=False, include_plotlyjs=first_figure))
            first_figure = False
        parts += [table_html(t) for t in s.tables]
        parts.append("</section>")
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;font-size:13px;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{''.join(parts)}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a markdown table (Dagster renders it in asset metadata)."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)
