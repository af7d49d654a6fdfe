"""A Dagster run followed as it goes, on a job of three steps: the first ingests with data
faults and a warning, the second fails, the third cannot run. Real runs on an ephemeral
instance, through the code `refill run` uses (``cli.follow.execute``)."""

from __future__ import annotations

import io
import re
from datetime import date

import dagster as dg

from refill_assets.cli.follow import execute
from refill_assets.cli.outcome import RunOutcome
from refill_assets.cli.progress import Progress
from refill_assets.defs.ingest.assets import QUARANTINED, REJECTED

FAULTS = {
    REJECTED: {"fills/dt=2025-01-02/a.csv": "fills/dt=2025-01-02/a.csv: unreadable CSV"},
    QUARANTINED: {"unknown status": 2, "missing required rx_id": 1},
}


@dg.asset(key=["raw", "fills"])
def raw_fills(context):  # no annotation: this module's are strings
    context.log.warning("schema drift: unknown column 'loyalty_tier' in 2 file(s)")
    context.log.info("rejected whole file fills/dt=2025-01-02/a.csv")  # not shown: a fault
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.json(v) for k, v in FAULTS.items()})


@dg.asset(deps=[raw_fills])
def features():
    raise ValueError("no fills on 2025-01-02: the snapshot would be empty")


@dg.asset(deps=[features])
def scores():
    return None


def _follow(*assets) -> tuple[dg.ExecuteInProcessResult, RunOutcome, str]:
    job = dg.Definitions(assets=list(assets), jobs=[dg.define_asset_job("job")]).resolve_job_def(
        "job"
    )
    outcome, out = RunOutcome(True, None, None), io.StringIO()
    with dg.DagsterInstance.ephemeral() as instance, Progress(out) as progress:
        result = execute(job, instance, "job 2025-01-02", outcome, progress, {})
    return result, outcome, out.getvalue()


def test_a_run_is_followed_step_by_step_with_its_faults_and_its_failure():
    result, outcome, text = _follow(raw_fills, features, scores)
    assert not result.success
    lines = text.splitlines()
    assert lines[0] == "job 2025-01-02: 3 steps"
    assert lines[1] == "[1/3] start raw__fills"
    assert re.fullmatch(
        r"\[1/3\] done  raw__fills in \d+\.\d s \(0:\d\d in all\) — 1 file\(s\) rejected,"
        r" 3 row\(s\) quarantined \(listed in the summary\)",
        lines[2],
    )
    assert lines[3] == "[2/3] start features"
    assert re.fullmatch(r"\[2/3\] FAILED step features after \d+\.\d s:", lines[4])
    failure = text[text.index(lines[4]) :]
    # the step's own exception in full, not Dagster's wrapper around it
    assert failure.splitlines()[1].startswith("ValueError: no fills on 2025-01-02")
    assert 'raise ValueError("no fills on 2025-01-02' in failure
    assert "DagsterExecutionStepExecutionError" not in failure
    assert "start scores" not in text
    assert lines[-1] == "[-/3] skipped scores: an upstream step failed or did not run"
    assert outcome.not_run == ["scores"]
    # the warning and the info line are not printed mid-run; the warning waits for the summary
    assert "schema drift" not in text and "rejected whole file" not in text
    assert outcome.error == (
        "step features failed: ValueError: no fills on 2025-01-02: the snapshot would be empty"
    )
    assert outcome.faults() == (1, 3)
    assert ("WARNING", "schema drift: unknown column 'loyalty_tier' in 2 file(s)") in (
        outcome.messages
    )
    # the executor's word on the step it skipped is not a message of the steps
    assert outcome.messages == {
        ("WARNING", "schema drift: unknown column 'loyalty_tier' in 2 file(s)"): ["raw__fills"]
    }


@dg.asset(check_specs=[dg.AssetCheckSpec("files_reconciled", asset="landed", blocking=True)])
def landed():
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(
        check_name="files_reconciled", passed=False, description="1 file neither loaded nor skipped"
    )


def test_a_blocking_check_that_fails_is_printed_as_the_check_and_its_reason():
    result, outcome, text = _follow(landed)
    assert not result.success
    failure = text[text.index("[1/1] FAILED step landed") :].splitlines()
    assert failure[1].endswith("1 blocking asset check failed with ERROR severity:")
    assert failure[2:] == ["landed:files_reconciled — 1 file neither loaded nor skipped"]
    assert outcome.error.endswith("failed with ERROR severity: landed: files_reconciled")


def test_the_summary_lists_the_faults_with_their_reasons_and_the_warnings():
    _, outcome, _ = _follow(raw_fills, features, scores)
    outcome.start = outcome.end = date(2025, 1, 2)
    summary = outcome.render(seconds=1.0)
    assert (
        "  data faults: 1 file(s) rejected, 3 row(s) quarantined — the run went on without"
        " them (raw.files, quarantine.rows)"
    ) in summary
    assert "    rejected fills/dt=2025-01-02/a.csv: unreadable CSV" in summary
    assert "    quarantined raw/fills 3: unknown status ×2; missing required rx_id ×1" in summary
    assert (
        "    WARNING schema drift: unknown column 'loyalty_tier' in 2 file(s) (raw__fills)"
        in summary
    )


def test_a_run_without_faults_says_none():
    @dg.asset
    def clean():
        return None

    result, outcome, text = _follow(clean)
    assert result.success
    assert text.splitlines()[2].endswith("in all)")  # no note after the step's time
    assert outcome.faults() == (0, 0) and not outcome.messages
