"""What a run's steps write goes to its log, whoever writes it; the terminal keeps the display.

Each case is a process of its own: its stdout and stderr are the descriptors, as for
`refill run` (under pytest, ``sys.stdout`` is pytest's capture, not descriptor 1)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.small_world import ROOT

RUN = """
import logging, os, sys
from pathlib import Path
from refill_assets.cli.terminal import steps_write_to

# a handler bound to the stream before the run, as MLflow's is when it is imported
logging.getLogger("library").addHandler(logging.StreamHandler(sys.stderr))
with steps_write_to(Path(sys.argv[1])) as screen:
    print("python stdout")
    print("python stderr", file=sys.stderr)
    os.write(1, b"native stdout\\n")
    os.write(2, b"native stderr\\n")
    logging.getLogger("library").warning("a library's warning")
    screen.write("the display\\n")
    if sys.argv[2] == "raise":
        raise RuntimeError("the run broke")
print("the summary")
"""


def _run(tmp_path, how: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUN, str(tmp_path / "run.log"), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_python_native_and_logging_output_go_to_the_log(tmp_path):
    done = _run(tmp_path, "finish")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["the display", "the summary"]
    assert done.stderr == ""
    assert sorted((tmp_path / "run.log").read_text().splitlines()) == [
        "a library's warning",
        "native stderr",
        "native stdout",
        "python stderr",
        "python stdout",
    ]


def test_the_terminal_is_restored_when_the_run_raises(tmp_path):
    done = _run(tmp_path, "raise")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["the display"]
    # the traceback reaches the terminal, not the log
    assert "RuntimeError: the run broke" in done.stderr
    assert "the run broke" not in (tmp_path / "run.log").read_text()
