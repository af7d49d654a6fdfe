"""The monitoring report: one self-contained HTML page of what the nightly monitoring wrote.

It reads five tables: ``monitoring.performance_daily`` (``performance``),
``monitoring.feature_drift``, ``monitoring.pilot_kpis``, ``monitoring.outreach_response`` and
``monitoring.unit_economics`` (``economics``), and the cost tables (``cost.ledger``: estimated
against actual spend, the forecast's variance).
Any of them may be missing or empty (a first night has no settled outcome, the pilot no KPI
yet): its section then says so instead of a figure, since a report that fails on a young
warehouse would hide the sections that do have data. A table that exists without a column the
report reads is a ``ValueError`` naming the columns: that is a writer out of step, not youth.

The headline's pooled figures come from ``performance.pooled``, the function the nightly
checks judge with, so the page and the check agree: over final days the checks' window (the
last ``window_days`` final days), over settled rows every day of the version, provisional ones
included. Both are shown from the first settled refill (the checks wait for ``min_rows``).

The drift heat map colours each (feature, night) by its deciding statistic (the ``statistic``
column: PSI or normalised Wasserstein for numeric features and predictions, Jensen-Shannon
for categorical ones) divided by that statistic's threshold in ``DriftPolicy``: above 1 the
row drifted, and one colour scale serves all three statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from refill_assets.monitoring import report_cost
from refill_assets.monitoring.drift import SCHEMA as DRIFT_SCHEMA
from refill_assets.monitoring.drift import DriftPolicy
from refill_assets.monitoring.economics import COLUMNS as ECONOMICS_COLUMNS
from refill_assets.monitoring.economics import ECONOMICS_TABLE
from refill_assets.monitoring.kpis import KPI_TABLE, RESPONSE_TABLE
from refill_assets.monitoring.nightly_drift import DRIFT_TABLE, PREDICTION_KIND
from refill_assets.monitoring.performance import (
    PERFORMANCE_COLUMNS,
    PERFORMANCE_TABLE,
    PerformancePolicy,
    pooled,
)
from refill_assets.reports.page import Section, write_page

# the columns read from each table; extra columns are ignored. The first ones are the keys
# the rows are sorted by (ORDER BY ALL), so traces and pivots come in date order
COLUMNS = {
    PERFORMANCE_TABLE: list(PERFORMANCE_COLUMNS),
    DRIFT_TABLE: ["as_of_date", "model_version", *DRIFT_SCHEMA],
    KPI_TABLE: ["period", "kpi", "treated", "control", "difference", "ci_low", "ci_high"]
    + ["treated_units", "control_units", "treated_owners", "control_owners", "method", "through"],
    RESPONSE_TABLE: ["period", "channel", "contacts", "opened", "clicked", "ordered_14d"]
    + ["open_rate", "click_rate", "order_rate", "control_order_rate"],
    ECONOMICS_TABLE: list(ECONOMICS_COLUMNS),
}
DEFAULT_POLICY, DEFAULT_DRIFT_POLICY = PerformancePolicy(), DriftPolicy()
PALETTE = px.colors.qualitative.Plotly


@dataclass(frozen=True)
class Report:
    path: Path
    headline: dict  # numeric figures (plus the version and night they are of), for metadata


def build_monitoring_report(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    model_version: str | None = None,
    policy: PerformancePolicy = DEFAULT_POLICY,
    drift_policy: DriftPolicy = DEFAULT_DRIFT_POLICY,
) -> Report:
    """Write the page to ``path``; ``model_version``: the version the headline is about (None:
    the latest with a settled refill, ``_served``)."""
    perf, drift, kpis, response, economics = (_read(con, t) for t in COLUMNS)
    version = model_version or _served(perf, drift)
    spend = report_cost.spend(con)
    sections = [
        *_performance(perf, policy),
        _drift(drift, drift_policy),
        _kpis(kpis),
        _response(response),
        report_cost.section(economics, *spend),
    ]
    path = write_page(path, "Refill platform — monitoring", sections)
    headline = _headline(perf, drift, kpis, version, policy)
    headline |= report_cost.headline(economics, spend[1])
    return Report(path, headline)


def _read(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame | None:
    """The table's columns in ``COLUMNS`` (None: no such table); ValueError if some lack."""
    schema, name = table.split(".")
    found = con.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    if not found:
        return None
    missing = sorted(set(COLUMNS[table]) - {c for (c,) in found})
    if missing:
        raise ValueError(f"{table} lacks the columns {missing}")
    columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
    return con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").pl()


def _absent(frame: pl.DataFrame | None, table: str) -> str | None:
    if frame is None:
        return f"{table} is not written yet (no monitoring run has produced it)."
    return f"{table} has no rows yet." if frame.is_empty() else None


def _served(perf: pl.DataFrame | None, drift: pl.DataFrame | None) -> str | None:
    """The version the headline is about: the latest one with a settled refill (a champion
    promoted tonight has none yet, and its headline would be empty), else the latest day's;
    on a day scored by two versions, the one that scored most rows."""
    if perf is not None and not (judged := perf.filter(pl.col("rows_refilled") > 0)).is_empty():
        return judged.sort("as_of_date", "rows_scored")["model_version"][-1]
    for frame, rows in ((perf, "rows_scored"), (drift, "current_rows")):
        if frame is not None and not frame.is_empty():
            return frame.sort("as_of_date", rows)["model_version"][-1]
    return None


def _headline(perf, drift, kpis, version: str | None, policy: PerformancePolicy) -> dict:
    days = [f["as_of_date"] for f in (perf, drift) if f is not None]
    final = perf.filter(pl.col("status") == "final") if perf is not None else None
    out = {
        "model_version": version,
        "nights_monitored": pl.concat(days).n_unique() if days else 0,  # scored by any version
        "final_nights": final["as_of_date"].n_unique() if final is not None else 0,
    }
    mine = (
        perf.filter(pl.col("model_version") == version) if final is not None and version else None
    )
    for label in ("final", "settled"):
        figures = _pooled(mine, version, policy, everything=label == "settled")
        model, base = figures.get("model_mae_on_baseline_days"), figures.get("heuristic_mae_days")
        out |= {
            f"days_{label}": figures.get("days", 0),
            f"rows_refilled_{label}": figures.get("rows_refilled", 0),
            f"mae_days_{label}": figures.get("mae_days"),
            f"heuristic_mae_days_{label}": base,
            # as the gate: the model on the days the heuristic was scored, over the heuristic
            f"mae_ratio_{label}": model / base if model is not None and base else None,
            f"coverage_{label}": figures.get("coverage_p10_p90"),
            f"late_share_{label}": figures.get("late_share"),
        }
    out |= dict.fromkeys(["drift_night", "drifted_share", "predictions_drifted"])
    if drift is not None and drift.height:
        of_version = drift.filter(pl.col("model_version") == version)
        rows = of_version if of_version.height else drift
        night = rows.filter(pl.col("as_of_date") == rows["as_of_date"].max())
        outputs = night.filter(pl.col("kind") == PREDICTION_KIND)
        features = night.filter(pl.col("kind") != PREDICTION_KIND)
        out["drift_night"] = night["as_of_date"][0].isoformat()
        out["drifted_share"] = features["drifted"].mean() if features.height else None
        out["predictions_drifted"] = int(outputs["drifted"].sum())
    capture = None if kpis is None else kpis.filter(period="all", kpi="capture_in_window")
    for column in ("treated", "control", "difference", "ci_low", "ci_high"):
        out[f"capture_in_window_{column}"] = (
            capture[column][0] if capture is not None and capture.height else None
        )
    return out


def _pooled(rows, version, policy: PerformancePolicy, everything: bool) -> dict:
    """``performance.pooled`` from the first settled refill; ``everything``: every settled row
    of the version, provisional days' too, pooled as if final (not only the checks' window)."""
    if rows is None:
        return {}
    if everything:
        rows, policy = (
            rows.with_columns(status=pl.lit("final")),
            replace(policy, window_days=rows.height),
        )
    return pooled(rows, version, replace(policy, min_rows=1)) or {}


def _daily(perf: pl.DataFrame, columns: dict[str, str], title: str, band=None) -> go.Figure:
    """Per version (one colour each, so a version change shows), final days as lines, the
    provisional ones as open markers apart: their figures are of the quick refills only."""
    fig = go.Figure()
    for i, ((version,), rows) in enumerate(
        perf.partition_by("model_version", as_dict=True, maintain_order=True).items()
    ):
        for (column, label), dash in zip(columns.items(), ("solid", "dash"), strict=False):
            for status in ("final", "provisional"):
                part = rows.filter(pl.col("status") == status)
                if part.is_empty():
                    continue
                final = status == "final"
                fig.add_scatter(
                    x=part["as_of_date"].to_list(),
                    y=part[column].to_list(),
                    name=f"v{version} {label}" + ("" if final else " (provisional)"),
                    legendgroup=str(version),
                    mode="lines+markers" if final else "markers",
                    line=dict(color=PALETTE[i % len(PALETTE)], dash=dash),
                    marker=dict(symbol="circle" if final else "circle-open"),
                    opacity=1.0 if final else 0.6,
                )
    if band is not None:
        fig.add_hrect(y0=band[0], y1=band[1], fillcolor="green", opacity=0.12, line_width=0)
    fig.update_layout(title=title, xaxis_title="scoring day")
    return fig


def _performance(perf: pl.DataFrame | None, policy: PerformancePolicy) -> list[Section]:
    titles = "Daily MAE: model against the heuristic", "Interval coverage and late share"
    if absent := _absent(perf, PERFORMANCE_TABLE):
        return [Section(t, absent) for t in titles]
    young = (
        f" No final scoring day yet: outcomes settle over {policy.maturity_days} days, and "
        "until then the settled rows are the quick refills, which flatter the model."
        if perf.filter(pl.col("status") == "final").is_empty()
        else ""
    )
    mae = (
        "Mean absolute error in days of the predicted refill date per scoring day, on its "
        "settled refills, and the heuristic baseline's on the same refills. Lines are final days "
        f"(the checks pool the last {policy.window_days}: live MAE within "
        f"{policy.mae_tolerance:.0%} of the offline test MAE, and at most "
        f"{policy.heuristic_ratio_max:.2f} × the heuristic's, as at the gate); open markers are "
        "provisional days. A new colour is a new model version."
    )
    (c_low, c_high), (l_low, l_high) = policy.coverage_band, policy.late_share_band
    bands = (
        "Coverage: the share of refills inside the p10–p90 interval (0.80 when calibrated; the "
        f"check's band {c_low}–{c_high} is shaded). Late share: the share of refills later than "
        f"predicted (0.5 when unbiased; band {l_low}–{l_high}): above it the model predicts too "
        "early, below it too late."
    )
    return [
        Section(
            titles[0],
            mae + young,
            [_daily(perf, {"mae_days": "model", "heuristic_mae_days": "heuristic"}, titles[0])],
        ),
        Section(
            titles[1],
            bands + young,
            [
                _daily(perf, {"coverage_p10_p90": "coverage"}, "p10–p90 coverage", (c_low, c_high)),
                _daily(perf, {"late_share": "late share"}, "Late share", (l_low, l_high)),
            ],
        ),
    ]


def _drift(drift: pl.DataFrame | None, policy: DriftPolicy) -> Section:
    title = "Feature and prediction drift"
    if absent := _absent(drift, DRIFT_TABLE):
        return Section(title, absent)
    stat = pl.col("statistic")
    value = pl.coalesce(pl.when(stat == c).then(pl.col(c)) for c in ("psi", "wasserstein"))
    value = value.fill_null(pl.col("jensen_shannon"))
    limits = {"psi": policy.psi_threshold, "wasserstein": policy.wasserstein_threshold}
    threshold = (
        pl.when((pl.col("kind") == PREDICTION_KIND) & (stat == "psi"))
        .then(policy.prediction_psi_threshold)
        .otherwise(stat.replace_strict(limits, default=policy.js_threshold))
    )
    verdict = pl.when(pl.col("drifted")).then(pl.lit("drifted")).otherwise(pl.lit("stable"))
    rows = drift.with_columns(
        night=pl.col("as_of_date").cast(pl.String),
        ratio=value / threshold,
        label=pl.format("{} {} ({})", stat, value.round(3), verdict),
    )
    figures = []
    # one map per version: its nights against its own reference; newest version first
    for (version,), part in reversed(
        rows.partition_by("model_version", as_dict=True, maintain_order=True).items()
    ):
        # predictions at the top (a shift in what the model says), then features by name
        part = part.with_columns(top=pl.col("kind") != PREDICTION_KIND).sort("top", "feature")
        z = part.pivot(on="night", index="feature", values="ratio", sort_columns=True)
        text = part.pivot(on="night", index="feature", values="label", sort_columns=True)
        nights = z.columns[1:]
        fig = go.Figure(
            go.Heatmap(
                z=z.select(nights).to_numpy(),
                x=nights,
                y=z["feature"].to_list(),
                text=text.select(nights).to_numpy(),
                hovertemplate="%{y} %{x}<br>%{text}<br>value / threshold %{z:.2f}<extra></extra>",
                zmin=0,
                zmax=2,
                # a break at 1 (the threshold): below it pale, above it red
                colorscale=[(0, "#f7fbff"), (0.5, "#fee391"), (0.5, "#fc9272"), (1, "#a50f15")],
                colorbar=dict(title="value / threshold"),
            )
        )
        fig.update_layout(title=f"Drift of v{version}, value / threshold by night")
        fig.update_yaxes(autorange="reversed")
        figures.append(fig)
    last = rows.filter(pl.col("as_of_date") == pl.col("as_of_date").max())
    drifted = last.filter("drifted").select(c for c in DRIFT_SCHEMA if c != "drifted")
    text = (
        "Each cell: the row's deciding statistic divided by its threshold (PSI "
        f"{policy.psi_threshold}, predictions' PSI {policy.prediction_psi_threshold}, normalised "
        f"Wasserstein {policy.wasserstein_threshold} reference std, Jensen-Shannon "
        f"{policy.js_threshold}); red, above 1, is drifted (capped at 2). The night warns above "
        f"{policy.drifted_share_threshold:.0%} of features drifted or on any drifted prediction "
        "row (top rows). Calendar features are left out: a night is one day of the calendar. "
        "Table: the last night's "
        f"drifted rows ({drifted.height})."
    )
    return Section(title, text, figures=figures, tables=[drifted])


def _kpis(kpis: pl.DataFrame | None) -> Section:
    title = "Pilot KPIs by arm"
    if absent := _absent(kpis, KPI_TABLE):
        return Section(title, absent + " KPIs come once contacted refills are due.")
    monthly = kpis.filter(pl.col("period") != "all").unpivot(
        index=["period", "kpi"], on=["treated", "control"], variable_name="arm"
    )
    overall = kpis.filter(pl.col("period") == "all")
    figures = []
    if monthly.height:
        fig = px.line(
            monthly,
            x="period",
            y="value",
            color="arm",
            facet_col="kpi",
            facet_col_wrap=3,
            markers=True,
            title="Treated against control by month",
        )
        fig.update_yaxes(matches=None, showticklabels=True)  # each KPI on its own scale
        figures.append(fig)
    if overall.height:
        # a NULL bound (CI not computed) draws no bar rather than a zero-width one
        bounds = overall.with_columns(
            above=pl.col("ci_high") - pl.col("difference"),
            below=pl.col("difference") - pl.col("ci_low"),
        )
        fig = px.scatter(bounds, x="kpi", y="difference", error_y="above", error_y_minus="below")
        fig.update_layout(title="Treated − control over the whole pilot, 95 % CI")
        fig.add_hline(y=0, line_dash="dot")
        figures.append(fig)
    text = (
        "Treated prescriptions were contacted on the model's schedule, control ones were held "
        "out. capture_in_window, on_time_refill and pdc_at_least_80 should be higher in the "
        "treated arm; wasted_contact, lapse_rate and churn_proxy lower. A difference whose 95 % "
        "CI crosses 0 is not yet evidence either way; months are noisier than 'all'."
        + ("" if overall.height else " No 'all' row yet.")
    )
    return Section(title, text, figures=figures, tables=[overall.drop("period")])


def _response(response: pl.DataFrame | None) -> Section:
    title = "Outreach response by channel"
    if absent := _absent(response, RESPONSE_TABLE):
        return Section(title, absent + " Responses come once contacts are sent.")
    overall = response.filter(pl.col("period") == "all")
    rates = ["open_rate", "click_rate", "order_rate", "control_order_rate"]
    bars = overall.unpivot(index="channel", on=rates, variable_name="rate")
    fig = px.bar(
        bars,
        x="channel",
        y="value",
        color="rate",
        barmode="group",
        title="Response rates by channel over the whole pilot",
    )
    text = (
        "Shares of contacts opened, clicked and ordered within 14 days, per channel; "
        "control_order_rate is the control arm's 14-day order rate, the bar order_rate must "
        "beat for the contact to have done anything. Table: every period."
    )
    figures = [fig] if overall.height else []
    return Section(title, text + ("" if figures else " No 'all' row yet."), figures, [response])
