"""The inference service as the container starts it (`serve serve`: SageMaker appends `serve`
to the image's `serve` entrypoint), on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    model_dir: Path, log_path: Path, api_key: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base url, process) of a one-worker service of ``model_dir``, stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "REFILL_API_KEY": api_key}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "serve"), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--model-dir", str(model_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{url}/ping", timeout=1)
                    break
                except OSError:
                    assert process.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "no answer to /ping in 30 s"
                    time.sleep(0.1)
            yield url, process
        finally:
            process.terminate()
            process.wait(timeout=10)
