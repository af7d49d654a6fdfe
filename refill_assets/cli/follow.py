"""One Dagster run followed as it goes: each event the instance stores, into the command's
outcome and its progress display.

The instance calls ``Follow`` for every event it stores of the run (``add_event_listener``:
what the UI's run view reads, in the order it is written), so the display moves with the
run rather than after it: the plan's steps when the run starts, each step's start and end,
the expected data faults each ingestion step counted, and the messages steps log. A step's
log line at WARNING is gathered for the summary; at ERROR it is printed at once. A step
that fails stops the display and its error is printed in full; the steps that will not run
after it are listed as such (the executor logs why at ERROR: not a message of theirs).
"""

from __future__ import annotations

import logging
import uuid

import dagster as dg

from refill_assets.cli.outcome import RunOutcome
from refill_assets.cli.progress import Progress

FILES, ROWS, WARNINGS = "file(s) rejected", "row(s) quarantined", "warning(s)"
STEP_WRAPPER = dg.DagsterExecutionStepExecutionError.__name__
CHECK_FAILED = "DagsterAssetCheckFailedError"  # a blocking check failed (not exported)


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    title: str,
    outcome: RunOutcome,
    progress: Progress,
    run_config: dict,
    **kwargs,
) -> dg.ExecuteInProcessResult:
    """``job`` run in this process, followed event by event; a failed step does not raise
    (the outcome and the display say it)."""
    run_id = str(uuid.uuid4())  # known before the run starts, for the listener
    instance.add_event_listener(run_id, Follow(instance, run_id, title, outcome, progress))
    # the console logger would print the steps' warnings and errors mid-run: the display
    # reports them, and the run's log in the instance keeps every line
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return job.execute_in_process(
        run_config=quiet | run_config,
        instance=instance,
        run_id=run_id,
        raise_on_error=False,
        **kwargs,
    )


class Follow:
    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: str,
        title: str,
        outcome: RunOutcome,
        progress: Progress,
    ) -> None:
        self._instance, self._run_id, self._title = instance, run_id, title
        self._outcome, self._progress = outcome, progress
        self._assets: dict[str, set[str]] = {}  # step → the assets it materialized
        self._started: set[str] = set()

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None and entry.step_key and entry.step_key not in self._started:
            # no step's code logs before it starts: this is the executor saying why a step
            # will not run (an upstream step failed)
            self._skipped(entry.step_key, "an upstream step failed or did not run")
            return
        if event is None:  # a message a step logged
            if entry.level >= logging.WARNING:
                self._message(entry)
            return
        self._outcome.record(self._run_id, event)
        kind, step = event.event_type, event.step_key
        if kind == dg.DagsterEventType.RUN_START:
            self._progress.stage(self._title, self._planned_steps())
            self._tally()
        elif kind == dg.DagsterEventType.STEP_START:
            self._started.add(step)
            self._progress.started(step)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            assets = self._assets.setdefault(step, set())
            assets.add(event.asset_key.to_user_string())
            self._progress.detail(step, f"{len(assets)} asset(s) materialized")
            self._tally()
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            seconds = event.event_specific_data.duration_ms / 1000
            self._progress.finished(step, seconds, self._faults_of(step))
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self._skipped(step, "an upstream step did not produce its output")
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            self._progress.failed(step, self._failure(step, event.event_specific_data.error))
        elif kind == dg.DagsterEventType.RUN_FAILURE and self._outcome.error is None:
            # a run that failed outside any step (its executor, its resources' teardown)
            error = event.event_specific_data and event.event_specific_data.error
            text = error.to_string() if error else event.message or "the run failed"
            self._outcome.error = f"run {self._run_id} failed: {text.splitlines()[0]}"
            self._progress.failed(None, text)

    def _failure(self, step: str, error) -> str:
        """What a failed step's error says in full: the step's own exception with its
        causes; for a blocking check, the checks that failed and why (Dagster's stack trace
        of its own check there says nothing more)."""
        if error.cls_name == CHECK_FAILED:
            assets = self._assets.get(step, set())
            failed = [
                f"{asset}:{check} — {description}"
                for asset, check, passed, severity, description in self._outcome.checks
                if not passed and severity == "ERROR" and asset in assets
            ]
            return "\n".join([error.message.strip().splitlines()[0], *failed])
        if error.cause is not None and error.cls_name == STEP_WRAPPER:
            error = error.cause  # the wrapper only says which op; its cause is the step's
        return error.to_string()

    def _skipped(self, step: str, why: str) -> None:
        if step not in self._outcome.not_run:
            self._outcome.not_run.append(step)
            self._progress.skipped(step, why)

    def _tally(self) -> None:
        files, rows = self._outcome.faults()
        self._progress.tally(FILES, files)
        self._progress.tally(ROWS, rows)
        self._progress.tally(WARNINGS, len(self._outcome.messages))

    def _planned_steps(self) -> int:
        run = self._instance.get_run_by_id(self._run_id)
        plan = self._instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        return len(plan.step_keys_to_execute or plan.steps)

    def _faults_of(self, step: str) -> str:
        files, rows = self._outcome.faults(self._run_id, self._assets.get(step, set()))
        found = [f"{n} {what}" for n, what in ((files, FILES), (rows, ROWS)) if n]
        return ", ".join(found) + " (listed in the summary)" if found else ""

    def _message(self, entry: dg.EventLogEntry) -> None:
        level = logging.getLevelName(entry.level)
        self._outcome.record_message(entry.step_key, level, entry.user_message)
        if entry.level >= logging.ERROR:
            self._progress.note(f"{level} {entry.step_key or 'run'}: {entry.user_message}", "red")
        self._tally()
