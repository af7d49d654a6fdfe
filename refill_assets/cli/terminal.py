"""The terminal keeps the progress display and the summary; a run's steps write to its log.

``contextlib.redirect_stdout`` is not enough: it moves Python's ``sys.stdout`` only, while
MLflow's logging handler is bound to ``sys.stderr`` when MLflow is imported, and native
libraries (LightGBM, DuckDB, dbt's adapters) write to the file descriptors themselves. So
descriptors 1 and 2 point at the log for the run's duration (``os.dup2``), and the display
gets a stream of its own on the terminal's stdout. (``wurlitzer`` does the same through
pipes and a reader thread; a file needs neither.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def steps_write_to(log: Path) -> Iterator[TextIO]:
    """While inside: stdout and stderr, Python's and native, into ``log``; yields a stream on
    the terminal's stdout. Both descriptors are restored on the way out, error or not."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    screen = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        with log.open("w") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                yield screen
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        screen.close()
        for fd in saved:
            os.close(fd)
