"""Every benchmark, one after the other (`make bench`); each prints one JSON line."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "bench_simulate.py",
    "bench_ingest.py",
    "bench_demo.py",
    "bench_models.py",
    "bench_monitoring.py",
    "bench_service.py",
):
    subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=True)
