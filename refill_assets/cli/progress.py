"""Where a long command is: its steps done of all, the steps running and for how long, the
whole command's time, each step's duration as it ends, and what it has counted so far (the
expected data faults of a run, the warnings of its steps).

On a terminal it is a live display (rich) under which each finished step is printed as a
line; anywhere else (CI, a log, a pipe) one plain line per event, written as it happens,
so the output reads top to bottom. It knows nothing of Dagster: ``refill run`` feeds it a
run's events (``cli.follow``), the benchmarks their worlds (``step``, ``command``).
"""

from __future__ import annotations

import subprocess
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text


def clock(seconds: float) -> str:
    """``2:05`` or ``1:02:05``: elapsed time at a glance."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """A command's progress on ``stream``; a context manager around the command's work.

    ``stage`` opens a group of steps (a Dagster run, a world) with its number of steps;
    ``started``/``finished``/``skipped``/``failed`` report each step; ``tally`` sets a
    counter shown live; ``note`` prints a line. Safe to call from any thread.
    """

    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self._console = Console(file=stream, highlight=False, soft_wrap=True)
        self._live_wanted = self._console.is_terminal if live is None else live
        self._live: Live | None = None
        self._lock = threading.RLock()
        self._began = time.monotonic()
        self._stage, self._total, self._done, self._ordinal = "", 0, 0, 0
        self._running: dict[str, tuple[int, float]] = {}  # step → (ordinal, started)
        self._details: dict[str, str] = {}  # step → what it has done so far
        self._tallies: dict[str, int] = {}

    def __enter__(self) -> Progress:
        if self._live_wanted:
            # the display is redrawn in place; what the steps write goes to the run's log
            # (cli.terminal), never through rich's redirection
            self._live = Live(
                console=self._console,
                get_renderable=self._render,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._began

    def stage(self, title: str, total: int) -> None:
        with self._lock:
            self._stage, self._total, self._done, self._ordinal = title, total, 0, 0
            self._running.clear()
            self._print(f"{title}: {total} step{'' if total == 1 else 's'}", style="bold")

    def started(self, step: str) -> None:
        with self._lock:
            self._ordinal += 1
            self._running[step] = (self._ordinal, time.monotonic())
            if self._live is None:
                self._print(f"{self._mark(self._ordinal)} start {step}")

    def finished(self, step: str, seconds: float, note: str = "") -> None:
        with self._lock:
            ordinal, _ = self._running.pop(step, (self._ordinal, 0.0))
            self._details.pop(step, None)
            self._done += 1
            line = f"{self._mark(ordinal)} done  {step} in {seconds:.1f} s"
            self._print(f"{line} ({clock(self.elapsed)} in all){f' — {note}' if note else ''}")

    def skipped(self, step: str, why: str) -> None:
        with self._lock:
            self._print(f"{self._mark(None)} skipped {step}: {why}", style="yellow")

    def failed(self, step: str | None, error: str) -> None:
        """A real error of ``step`` (None: of the run itself): the live display stops, the
        error is printed in full."""
        with self._lock:
            self._stop()
            if step in self._running:
                ordinal, began = self._running.pop(step)
                seconds = time.monotonic() - began
                head = f"{self._mark(ordinal)} FAILED step {step} after {seconds:.1f} s:"
            else:
                head = f"{self._mark(None)} FAILED {f'step {step}' if step else 'the run'}:"
            self._print(head, style="bold red")
            self._print(error.rstrip())

    def detail(self, step: str, text: str) -> None:
        """What a running step has done so far (a multi-asset step's materializations),
        shown beside it on the live display."""
        with self._lock:
            self._details[step] = text

    def tally(self, name: str, count: int) -> None:
        with self._lock:
            self._tallies[name] = count

    def note(self, text: str, style: str | None = None) -> None:
        with self._lock:
            self._print(text, style=style)

    @contextmanager
    def step(self, name: str) -> Iterator[str]:
        """A block of the caller's as one step (a benchmark's world), yielding its name:
        started, then finished or failed with its traceback (and re-raised)."""
        self.started(name)
        began = time.monotonic()
        try:
            yield name
        except BaseException:
            self.failed(name, traceback.format_exc())
            raise
        self.finished(name, time.monotonic() - began)

    def command(self, step: str, cmd: list[str], **popen) -> subprocess.CompletedProcess:
        """``cmd`` as a process within ``step``: each line it prints becomes the step's detail
        as it comes (a ``refill run``'s own progress, say). Returns it with its output,
        stderr merged into stdout; not checked."""
        lines: list[str] = []
        with subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
        ) as process:
            for line in process.stdout:
                lines.append(line)
                if line.strip():
                    self.detail(step, line.strip()[:100])
        return subprocess.CompletedProcess(cmd, process.returncode, "".join(lines), "")

    def _mark(self, ordinal: int | None) -> str:
        width = len(str(self._total))
        return f"[{'-' * width if ordinal is None else ordinal:>{width}}/{self._total}]"

    def _print(self, text: str, style: str | None = None) -> None:
        # above the live display while it runs; markup off: step names and errors hold [ ]
        self._console.print(Text(text, style=style or ""))

    def _stop(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _render(self) -> Group:
        with self._lock:
            now = time.monotonic()
            head = Table.grid(padding=(0, 2))
            spinner, elapsed = (
                Spinner("dots", style="cyan"),
                Text(f"{clock(now - self._began)} in all"),
            )
            if not self._stage:  # before the first stage: no steps to count yet
                head.add_row(spinner, Text("starting", style="bold"), elapsed)
            else:
                head.add_row(
                    spinner,
                    Text(self._stage, style="bold"),
                    ProgressBar(total=max(self._total, 1), completed=self._done, width=30),
                    Text(f"{self._done}/{self._total} steps"),
                    elapsed,
                )
            rows: list = [head]
            for step, (ordinal, began) in self._running.items():
                line = f"  {self._mark(ordinal)} running {step}  {clock(now - began)}"
                detail = self._details.get(step)
                rows.append(Text(f"{line}  ({detail})" if detail else line))
            counted = [f"{n} {name}" for name, n in self._tallies.items() if n]
            if counted:
                rows.append(Text("  " + " · ".join(counted), style="yellow"))
            return Group(*rows)
