"""The two user-facing commands end to end: `refill simulate` then `refill run`, as processes.

One small world is built once per session; the tests read what the run left
behind (warehouse, raw zone, published copy, report, Dagster run history). The runs go to
the Dagster instance on PostgreSQL (``instance/postgres``, a scratch database on the
machine's server): the embedded SQLite instance is the one every other end-to-end test uses.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import mlflow
import polars as pl
import pytest

from refill_assets.contract.extracts import EXTRACTS, PII_COLUMNS
from refill_assets.models.tracking import EXPERIMENT
from refill_assets.outreach.export import EXPORT_COLUMNS, export_key, export_problems, exported
from refill_assets.outreach.plan import candidates, plan_contacts
from refill_assets.storage.layout import Layout
from tests.support import pg_engine
from tests.support.small_world import ROOT, refill_env, run_refill

# eight months: the test period's as-of days need 120 days of follow-up before the data end
# (models.split), which leaves about four months of as-of days to train, validate and test on
START, END = date(2025, 1, 1), date(2025, 8, 31)


def _env(home: Path, dagster_db: str) -> dict[str, str]:
    # an eight-month world is too small to demand a margin over the heuristic;
    # the gate's rules have their own tests (tests/unit/validation/test_gate.py)
    return refill_env(
        home,
        date(2024, 12, 1),
        REFILL_GATE_MARGIN="-1",
        DAGSTER_HOME=str(ROOT / "instance" / "postgres"),
        REFILL_DAGSTER_PG_URL=pg_engine.url(dagster_db),
    )


def _refill(built: dict, *args: str) -> subprocess.CompletedProcess:
    return run_refill(built["home"], *args, env=_env(built["home"], built["dagster_db"]))


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE' ORDER BY ALL"
    ).fetchall()


# a run's own marks, which a re-run replaces by its own: the Data Docs page of the
# validation that judged a day names the run
RUN_MARKS = {"quality.scorecard": " EXCLUDE (page)"}


def _snapshot(path: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            f"{s}.{t}": con.execute(f'SELECT *{RUN_MARKS.get(f"{s}.{t}", "")} FROM "{s}"."{t}"')
            .pl()
            .sort(pl.all())
            for s, t in _tables(con)
        }


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("home")
    world = home / "world"
    with pg_engine.scratch_database("refill_dagster") as dagster_db:
        yield _build({"home": home, "world": world, "dagster_db": dagster_db})


def _build(built: dict) -> dict:
    home, world = built["home"], built["world"]
    sim = _refill(
        built,
        "simulate",
        "--out",
        str(world),
        "--pets",
        "1200",
        "--start",
        START.isoformat(),
        "--end",
        END.isoformat(),
        "--seed",
        "3",
    )
    assert sim.returncode == 0, sim.stderr[-3000:]
    run = _refill(built, "run", "--landing", str(world / "landing"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return built | {
        "stdout": run.stdout,
        "warehouse": home / "warehouse.duckdb",
        "first": _snapshot(home / "warehouse.duckdb"),
    }


def test_run_prints_a_summary_and_where_to_look(built):
    out = built["stdout"]
    assert "refill run: succeeded" in out
    assert f"delivery days {START}" in out
    assert str(built["home"] / "published" / "warehouse.duckdb") in out


def test_each_run_records_its_estimated_cost(built):
    """Every asset's materialization carries its cost; the publish step wrote each run's rows
    of cost.estimates, summing to what the summary printed; the cost per 1,000 predictions
    is printed and the unit economics written (the pilot's KPIs: test_retrain_loop)."""
    out = built["stdout"]
    printed = re.search(r"estimated cost: \$([0-9.e-]+) for 2 run\(s\)", out)
    assert printed and "cost per 1,000 predictions: $" in out
    published = built["home"] / "published" / "warehouse.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        runs = con.execute(
            "select job, count(distinct asset), sum(cost_usd), min(cost_usd) "
            "from cost.estimates group by job order by job"
        ).fetchall()
        economics = con.execute(
            "select predictions, cost_per_prediction from monitoring.unit_economics "
            "where period = 'all'"
        ).fetchone()

    assert [job for job, *_ in runs] == ["refill_all", "score"]
    # refill_all: 7 extracts, 31 dbt models, snapshot, EDA, 4 models, validation, (run)
    assert runs[0][1] >= 40 and all(low >= 0 for *_, low in runs)
    # the summary's total adds the publish steps, which record before they end
    total = sum(usd for _, _, usd, _ in runs)
    assert 0 < total <= float(printed.group(1)) * 1.001
    predictions, per_prediction = economics
    assert predictions > 100 and per_prediction > 0


def test_the_progress_names_each_step_of_each_run_once_at_its_start_and_end(built):
    """stdout is not a terminal here: one plain line per event, as CI and logs see it. Each
    run opens with its planned steps; each step the instance records as started is named
    once when it starts and once when it ends, in the order the instance recorded them."""
    with pg_engine.cursor(built["dagster_db"]) as cur:
        cur.execute("select run_id, pipeline_name from runs order by create_timestamp")
        runs = cur.fetchall()[:2]
        started = {}
        for run_id, _ in runs:
            cur.execute(
                "select step_key from event_logs where run_id = %s and"
                " dagster_event_type = 'STEP_START' order by id",
                [run_id],
            )
            started[run_id] = [step for (step,) in cur.fetchall()]
    lines = built["stdout"].splitlines()
    stages = [
        i for i, line in enumerate(lines) if re.match(r"^(refill_all|score) .*: \d+ steps$", line)
    ]
    summary = next(i for i, line in enumerate(lines) if line.startswith("refill run:"))
    assert [lines[i].split()[0] for i in stages] == [job for _, job in runs]
    for (run_id, _), first, last in zip(runs, stages, [*stages[1:], summary], strict=True):
        steps = started[run_id]
        assert lines[first].endswith(f": {len(steps)} steps")
        progress = [
            re.match(r"^\[ *(\d+)/(\d+)\] (start|done ) (\S+)", line)
            for line in lines[first + 1 : last]
        ]
        events = [(m[3].strip(), m[4]) for m in progress if m]
        expected = [(kind, step) for step in steps for kind in ("start", "done")]
        assert events == expected
        assert [int(m[1]) for m in progress if m] == [
            i for i in range(1, len(steps) + 1) for _ in "ab"
        ]
        assert all(int(m[2]) == len(steps) for m in progress if m)


def test_the_summary_lists_the_data_faults_the_quarantine_holds(built):
    """The expected faults (rows quarantined, files rejected) are counted in the progress and
    listed in the summary with their reasons, the same counts as the warehouse's tables; never
    as bare ERROR lines mid-run."""
    out = built["stdout"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        rows = con.execute(
            "SELECT extract, regexp_replace(reason, ' ''.*$', ''), count(*)"
            " FROM quarantine.rows GROUP BY ALL"
        ).fetchall()
        rejected = dict(
            con.execute("SELECT _file, reason FROM raw.files WHERE status = 'rejected'").fetchall()
        )
    assert rows and rejected, "the simulated world injects both kinds of fault"
    head = re.search(r"data faults: (\d+) file\(s\) rejected, (\d+) row\(s\) quarantined", out)
    assert head and (int(head[1]), int(head[2])) == (len(rejected), sum(n for *_, n in rows))
    listed = {}
    for extract, total, reasons in re.findall(
        r"^    quarantined raw/(\w+) (\d+): (.*)$", out, re.M
    ):
        each = dict(re.fullmatch(r"(.*) ×(\d+)", part).groups() for part in reasons.split("; "))
        assert sum(int(n) for n in each.values()) == int(total)
        listed |= {(extract, reason): int(n) for reason, n in each.items()}
    assert listed == {(extract, reason): n for extract, reason, n in rows}
    for name, why in rejected.items():
        assert f"    rejected {name}: {why.removeprefix(f'{name}: ')}" in out
    # the ingestion step that met them says so when it ends; no ERROR line before the summary
    progress = out.split("\nrefill run:")[0].splitlines()
    extracts = {name.split("/")[0] for name in rejected}
    assert sum("file(s) rejected" in line for line in progress) == len(extracts)
    assert not [line for line in progress if "ERROR" in line]


def test_the_runs_are_recorded_in_postgresql_one_planned_event_per_asset(built):
    """The history's two runs are in the PostgreSQL instance, not under the home; each asset
    planned once per run, not once per day; the dbt models materialized once, ingestion once
    a day (docs/architecture.md, "Bookkeeping")."""
    with pg_engine.cursor(built["dagster_db"]) as cur:
        cur.execute("select run_id, pipeline_name, status from runs order by create_timestamp")
        (history, _, status), (_, score_job, score_status) = cur.fetchall()[:2]
        cur.execute(
            "select dagster_event_type, asset_key, count(*) from event_logs where run_id = %s"
            " and dagster_event_type like 'ASSET_MATERIALIZATION%%' group by 1, 2",
            [history],
        )
        counts = {(kind, key): n for kind, key, n in cur.fetchall()}
    assert (status, score_job, score_status) == ("SUCCESS", "score", "SUCCESS")
    planned = {key: n for (kind, key), n in counts.items() if kind.endswith("PLANNED")}
    done = {key: n for (kind, key), n in counts.items() if not kind.endswith("PLANNED")}
    assert planned.keys() == done.keys() and set(planned.values()) == {1}
    days = (END - START).days + 1  # the run's window: the world's delivery days
    assert done['["raw", "rx_orders"]'] == days
    assert done['["marts", "fills"]'] == 1
    assert not (built["home"] / "dagster" / "history").exists()


def test_every_layer_is_built(built):
    tables = set(built["first"])
    for extract in EXTRACTS:
        assert f"raw.{extract}" in tables
        assert built["first"][f"raw.{extract}"].height > 0, extract
    for mart in (
        "fills",
        "refill_intervals",
        "pets",
        "customers",
        "drugs",
        "vet_reauths",
        "inventory_daily",
        "engagement_daily",
        "active_maintenance_rx_spans",
        "adherence_monthly",
    ):
        assert f"marts.{mart}" in tables, mart
        assert built["first"][f"marts.{mart}"].height > 0, mart
    assert built["first"]["quarantine.rows"].height > 0  # the simulator sends bad rows
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        active = con.execute(
            "SELECT count(*) FROM marts.active_maintenance_rx_daily WHERE as_of_date = ?", [END]
        ).fetchone()[0]
    assert active > 100
    assert (built["home"] / "reports" / "eda.html").stat().st_size > 100_000


def test_no_owner_pii_anywhere(built):
    """Every string column of every table, and the raw-zone Parquet, against the clear values."""
    landing = built["world"] / "landing" / "customers"
    frames = [
        pl.read_csv(f, infer_schema=False, truncate_ragged_lines=True)
        for f in landing.rglob("*.csv")
    ]
    clear = pl.concat(
        [
            f.select(c for c in PII_COLUMNS["customers"] if c in f.columns and c != "zip5")
            for f in frames
        ],
        how="diagonal",
    )
    values = {v for col in clear.columns for v in clear[col].drop_nulls().to_list() if len(v) > 3}
    values.discard(None)
    assert len(values) > 1000
    found = []
    for name, frame in built["first"].items():
        for col in frame.select(pl.col(pl.String)).columns:
            hits = frame.filter(pl.col(col).is_in(list(values)))
            if hits.height:
                found.append((name, col, hits.height))
    for parquet in (built["home"] / "raw").rglob("*.parquet"):
        frame = pl.read_parquet(parquet)
        for col in frame.select(pl.col(pl.String)).columns:
            if frame.filter(pl.col(col).is_in(list(values))).height:
                found.append((str(parquet), col))
    assert not found


def test_rerun_is_idempotent_and_not_blocked_by_an_analyst(built):
    """An analyst holds the published copy open; a re-run neither waits nor changes data."""
    published = built["home"] / "published" / "warehouse.duckdb"
    with duckdb.connect(str(published), read_only=True) as analyst:
        before = analyst.execute("SELECT count(*) FROM marts.fills").fetchone()[0]
        again = _refill(
            built,
            "run",
            "--landing",
            str(built["world"] / "landing"),
            "--as-of",
            "2025-02-15",
            "--skip-training",
        )
        assert again.returncode == 0, again.stdout[-3000:]
        assert analyst.execute("SELECT count(*) FROM marts.fills").fetchone()[0] == before
    assert "delivery days 2025-01-01 … 2025-02-15" in again.stdout
    second = _snapshot(built["warehouse"])
    assert second.keys() == built["first"].keys()
    for name, frame in built["first"].items():
        if name in ("quality.scorecard", "cost.estimates"):
            continue
        assert second[name].equals(frame), name
    # every run costs: the ledger keeps the first runs' rows as they were and adds the re-run's
    first, again = built["first"]["cost.estimates"], second["cost.estimates"]
    assert first.join(again, on=list(first.columns), how="anti").is_empty()
    added = again.join(first, on=list(first.columns), how="anti")
    assert added["run_id"].n_unique() == 1 and set(added["job"]) == {"curate"}
    # the scorecard keeps every verdict, and gains the one a shorter window adds: required
    # fields on its own last day (blocking judges a run's latest day)
    first, again = built["first"]["quality.scorecard"], second["quality.scorecard"]
    added = again.join(first, on=list(first.columns), how="anti")
    assert first.join(again, on=list(first.columns), how="anti").is_empty()
    assert set(added["expectation"]) == {"required_fields_valid_latest_day"}
    assert set(added["day"]) == {date(2025, 2, 15)}
    assert before == built["first"]["marts.fills"].height


def test_history_ends_with_the_champions_scores_for_the_last_day(built):
    scores = "scores.rx_refill_scores"
    window = next(line for line in built["stdout"].splitlines() if "delivery days" in line)
    last = date.fromisoformat(window.split("…")[1].strip())
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        days = con.execute(
            f"SELECT as_of_date, count(*), count(DISTINCT model_version) FROM {scores} GROUP BY 1"
        ).fetchall()
        active = con.execute(
            "SELECT count(*) FROM marts.active_maintenance_rx_daily WHERE as_of_date = ?", [last]
        ).fetchone()[0]
        incoherent = con.execute(
            f"SELECT count(*) FROM {scores} WHERE NOT (lapse_probability BETWEEN 0 AND 1"
            " AND refill_date_p10 <= predicted_refill_date"
            " AND predicted_refill_date <= refill_date_p90 AND predicted_refill_date >= as_of_date)"
        ).fetchone()[0]
    assert days == [(last, active, 1)] and active > 0
    assert incoherent == 0
    reports = built["home"] / "reports"
    assert (reports / "validation.html").exists()
    cards = {p.stem for p in (reports / "model_cards").glob("*.md")}
    assert cards == {"heuristic", "lightgbm", "xgboost_aft", "coxnet"}
    # the gate judged timing and lapse, and both reached MLflow and the report
    assert "lapse AUC" in (reports / "validation.html").read_text()
    layout = Layout(built["home"])
    client = mlflow.MlflowClient(f"sqlite:///{layout.mlflow_db}")
    gated = client.search_runs(
        [client.get_experiment_by_name(EXPERIMENT).experiment_id],
        "tags.`gate.decision` != ''",
    )
    assert len(gated) == 1
    logged = gated[0].data.metrics
    for role in ("challenger", "heuristic"):
        assert {f"gate.{role}.{m}" for m in ("mae_days", "lapse_roc_auc", "lapse_brier")} <= set(
            logged
        )
    assert 0.5 < logged["gate.challenger.lapse_roc_auc"] <= 1
    assert "models/validation" in built["stdout"] and "scores/rx_refill_scores" in built["stdout"]


def test_history_ends_with_the_outreach_export_of_the_last_day(built):
    path = built["home"] / "exports" / export_key(END)
    contacts = pl.read_csv(path, try_parse_dates=True)
    assert tuple(contacts.columns) == EXPORT_COLUMNS
    assert "outreach/refill_outreach_export" in built["stdout"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        assert export_problems(contacts, con) == []
        (scored,) = con.execute(
            "SELECT count(*) FROM scores.rx_refill_scores WHERE as_of_date = ?", [END]
        ).fetchone()
        rows = candidates(con, END)
        assert rows.height == scored  # one candidate per score: the joins add no rows
        again = exported(plan_contacts(rows, END))
    assert contacts.height == again.height > 0
    assert (contacts["contact_on"] == END + timedelta(days=1)).all()
    assert set(contacts["channel"]) <= {"email", "sms"}


def test_the_champion_packages_for_sagemaker(built, tmp_path):
    out = tmp_path / "model.tar.gz"
    done = _refill(built, "package-champion", "--out", str(out))
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        (name, version) = con.execute(
            "SELECT any_value(model_name), any_value(model_version) FROM scores.rx_refill_scores"
        ).fetchone()
    if name not in ("lightgbm", "xgboost_aft"):  # the heuristic or Coxnet: nothing to serve
        assert done.returncode == 1 and "has no ONNX export" in done.stderr
        return
    assert done.returncode == 0, done.stderr[-3000:]
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("serving.json"))
    assert manifest["model_version"] == version and manifest["kind"] == name
    assert names == {"serving.json", "example.json", *(f"{g}.onnx" for g in manifest["graphs"])}


def test_every_score_has_its_outcome_and_the_control_arm_is_held_out(built):
    assert "monitoring/score_outcomes" in built["stdout"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        (scored, matched, outcomes) = con.execute(
            """select (select count(*) from scores.rx_refill_scores),
                count(o.rx_id), (select count(*) from monitoring.score_outcomes)
            from scores.rx_refill_scores as s
            left join monitoring.score_outcomes as o using (as_of_date, rx_id)"""
        ).fetchone()
        assert scored == matched == outcomes > 100
        arms = dict(
            con.execute(
                "select arm, count(*) from monitoring.outreach_assignment group by arm"
            ).fetchall()
        )
        contacted = con.execute(
            "select count(*) from monitoring.score_outcomes where contacted_on is not null"
        ).fetchone()[0]
        performance = con.execute(
            "select status, rows_scored from monitoring.performance_daily"
        ).fetchall()
        (baseline,) = con.execute(
            """select count(*) from monitoring.baseline_scores as b
            join scores.rx_refill_scores using (as_of_date, rx_id)
            where b.model_name = 'heuristic'"""
        ).fetchone()
    assert baseline == scored  # the heuristic scored the same rows, for the live ratio
    assert set(arms) <= {"treated", "control"} and arms.get("treated", 0) == contacted > 0
    exported = pl.read_csv(built["home"] / "exports" / export_key(END))
    assert exported.height == arms["treated"]  # the file holds the treated arm, no more
    assert performance == [("provisional", scored)]  # the last day: nothing settled yet
