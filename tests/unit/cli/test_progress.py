"""The progress display: plain lines off a terminal, a live display on one."""

from __future__ import annotations

import io
import re
import sys
import time

import pytest

from refill_assets.cli.progress import Progress, clock


class Terminal(io.StringIO):
    """A stream that says it is a terminal: rich draws its live display on it."""

    def isatty(self) -> bool:
        return True


def test_off_a_terminal_each_event_is_one_line_in_order():
    out = io.StringIO()
    with Progress(out) as progress:
        progress.stage("refill_all 2025-01-01 … 2025-01-31", 3)
        progress.started("raw__fills")
        progress.finished("raw__fills", 2.04, "1 file(s) rejected")
        progress.started("dbt_models")
        progress.detail("dbt_models", "3 asset(s) materialized")  # the live display's only
        progress.finished("dbt_models", 61.0)
        progress.skipped("scores", "an upstream step did not produce its output")
        progress.note("WARNING raw__fills: schema drift")
    lines = out.getvalue().splitlines()
    assert lines[0] == "refill_all 2025-01-01 … 2025-01-31: 3 steps"
    assert lines[1] == "[1/3] start raw__fills"
    assert re.fullmatch(
        r"\[1/3\] done  raw__fills in 2\.0 s \(0:\d\d in all\) — 1 file\(s\) rejected", lines[2]
    )
    assert lines[3] == "[2/3] start dbt_models"
    assert lines[4].startswith("[2/3] done  dbt_models in 61.0 s")
    assert lines[5] == "[-/3] skipped scores: an upstream step did not produce its output"
    assert lines[6] == "WARNING raw__fills: schema drift"
    assert len(lines) == 7
    assert "\x1b" not in out.getvalue()  # no terminal codes in a log


def test_a_failed_step_prints_its_error_in_full_and_is_raised():
    out = io.StringIO()
    with pytest.raises(ValueError, match="boom"), Progress(out) as progress:
        progress.stage("worlds", 2)
        with progress.step("seed 1: the world"):
            pass
        with progress.step("seed 2: the world"):
            raise ValueError("boom")
    text = out.getvalue()
    assert "[1/2] done  seed 1: the world in 0.0 s" in text
    assert re.search(r"\[2/2\] FAILED step seed 2: the world after \d+\.\d s:", text)
    assert "Traceback (most recent call last)" in text and 'raise ValueError("boom")' in text


def test_on_a_terminal_the_running_step_and_the_counts_are_drawn_live():
    screen = Terminal()
    with Progress(screen) as progress:
        time.sleep(0.4)  # before the run starts: nothing to count yet
        progress.stage("nightly 2026-04-01", 2)
        progress.started("raw__fills")
        progress.tally("row(s) quarantined", 12)
        progress.tally("file(s) rejected", 0)  # nothing to say: not drawn
        time.sleep(0.7)  # a few refreshes of the live display
        progress.finished("raw__fills", 0.7)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "[1/2] running raw__fills" in drawn
    assert "starting" in drawn and "0/0 steps" not in drawn
    assert "0/2 steps" in drawn and "in all" in drawn
    assert "12 row(s) quarantined" in drawn and "file(s) rejected" not in drawn
    assert "[1/2] done  raw__fills in 0.7 s" in drawn
    assert "start raw__fills" not in drawn  # the live display shows what starts


def test_a_command_is_followed_line_by_line_and_returned_whole():
    screen = Terminal()
    script = (
        "import sys, time; print('[3/17] start dbt_models', flush=True); time.sleep(0.7);"
        " print('two', file=sys.stderr); sys.exit(3)"
    )
    with Progress(screen) as progress:
        progress.stage("worlds", 1)
        with progress.step("seed 1: refill run") as step:
            done = progress.command(step, [sys.executable, "-c", script])
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["[3/17] start dbt_models", "two"]
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "running seed 1: refill run" in drawn and "([3/17] start dbt_models)" in drawn


def test_clock():
    assert [clock(s) for s in (0, 59.9, 61, 3600 + 62)] == ["0:00", "0:59", "1:01", "1:01:02"]
