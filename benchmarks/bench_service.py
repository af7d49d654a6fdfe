"""The inference service on loopback, measured with existing load generators (hey, wrk).

    .venv/bin/python benchmarks/bench_service.py [RUNS]

Needs `hey` and `wrk` (Debian: apt-get install hey wrk) and the large world's warehouse that
bench_models builds (benchmarks/out/models-home). Once: a LightGBM with the default parameters
and the registry's features, fitted on 100k rows of the training snapshot, exported as the
service's bundle (benchmarks/out/service-bundle), and 1,000 real scoring rows of the last
night as request bodies. Each repetition starts `serve` as the container does:

- cold start: process start to the first successful GET /ping (1 worker and 2 workers);
- resident memory: VmRSS of each process after the load below (server and workers);
- single-row requests at a steady 200 requests/s for 15 s (hey -c 1 -q 200: one request
  every 5 ms): p50, p99 from hey's per-request CSV; and the same 200 requests/s from 4
  connections (hey -c 4 -q 50), whose workers tick in lockstep: bursts of 4 requests every
  20 ms, so two of each burst wait for a worker (reported as bursts_of_4);
- sustained throughput with 2 workers: wrk, 2 threads, 16 connections, 15 s, single rows;
- a 1,000-row JSON batch: 30 sequential requests (hey -n 30 -c 1), median latency.

Prints one JSON line: medians and every run. The load generator shares the 2 cores with the
server, so the throughput is a lower bound of what the server alone would do.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
BUNDLE = OUT / "service-bundle"
BODIES = OUT / "service-bodies"
WAREHOUSE = OUT / "models-home" / "warehouse.duckdb"
KEY = "bench-key"
sys.path.insert(0, str(ROOT))


def prepare() -> None:
    """The bundle and the request bodies, built once."""
    if (BUNDLE / "serving.json").exists() and (BODIES / "batch.json").exists():
        return
    import duckdb
    import polars as pl

    from refill_assets.features import registry
    from refill_assets.features.examples import scoring_rows, training_examples
    from refill_assets.models.bundle import package, write_bundle
    from refill_assets.models.lgbm import LgbmModel
    from refill_assets.models.onnx_export import export_onnx

    if not WAREHOUSE.exists():
        raise SystemExit(f"{WAREHOUSE} missing: run benchmarks/bench_models.py first")
    with duckdb.connect(str(WAREHOUSE), read_only=True) as con:
        frame = training_examples(con).sample(100_000, seed=0)
        (night,) = con.execute("select max(_dt) from raw.rx_orders").fetchone()
        rows = scoring_rows(con, night).head(1000)
    categorical = registry.categorical_names()
    numeric = [n for n in registry.feature_names() if n not in categorical]
    model = LgbmModel(numeric, categorical).fit(frame)
    shutil.rmtree(BUNDLE, ignore_errors=True)
    staged = write_bundle(export_onnx(model), OUT / "service-bundle-staged")
    archive = package(staged, "bench", OUT / "service-model.tar.gz")
    shutil.rmtree(staged)
    BUNDLE.mkdir(parents=True)
    shutil.unpack_archive(archive, BUNDLE)
    BODIES.mkdir(parents=True, exist_ok=True)
    features = rows.select(registry.feature_names())
    one = {"instances": features.head(1).to_dicts()}
    (BODIES / "row.json").write_text(json.dumps(one, default=str))
    (BODIES / "batch.json").write_text(json.dumps({"instances": features.to_dicts()}, default=str))
    assert pl.read_json(io.BytesIO((BODIES / "row.json").read_bytes())).height == 1


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int) -> tuple[subprocess.Popen, str, float]:
    port = _port()
    env = {**os.environ, "REFILL_API_KEY": KEY, "REFILL_SERVING_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "serve"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--model-dir", str(BUNDLE)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(f"{url}/ping", timeout=1)
            return process, url, time.perf_counter() - started
        except OSError:
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit("the service did not start") from None
            time.sleep(0.005)


def rss_mb(process: subprocess.Popen) -> dict[str, float]:
    """VmRSS of the server process and of its children (the workers), in MB."""
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    out = {}
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        out[str(pid)] = round(kb / 1024, 1)
    return out


def hey(url: str, body: Path, *args: str) -> list[float]:
    """Per-request latencies in ms of successful requests (hey's CSV output)."""
    cmd = ["hey", *args, "-m", "POST", "-T", "application/json", "-H", f"x-api-key: {KEY}"]
    cmd += ["-D", str(body), "-o", "csv", f"{url}/invocations"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    failed = [r for r in rows if r["status-code"] != "200"]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed: {failed[0]}")
    return sorted(float(r["response-time"]) * 1000 for r in rows)


def wrk_rps(url: str, body: Path, seconds: int = 15) -> float:
    script = OUT / "wrk-post.lua"
    payload = json.dumps(body.read_text())
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {payload}\n"
        f'wrk.headers["content-type"] = "application/json"\nwrk.headers["x-api-key"] = "{KEY}"\n'
        "function done(summary, latency, requests)\n"
        '  io.write(string.format("NON2XX %d\\n", summary.errors.status))\nend\n'
    )
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(script), f"{url}/invocations"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "NON2XX 0" not in done:
        raise SystemExit(f"wrk saw failed requests:\n{done}")
    return float(next(x for x in done.splitlines() if x.startswith("Requests/sec")).split()[1])


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def one_run() -> dict:
    run: dict = {}
    process, _, run["cold_start_1_worker_s"] = start(1)
    process.terminate()
    process.wait()
    process, url, run["cold_start_2_workers_s"] = start(2)
    try:
        hey(url, BODIES / "row.json", "-n", "400", "-c", "4")  # warm-up
        steady = hey(url, BODIES / "row.json", "-z", "15s", "-c", "1", "-q", "200")
        run["steady_requests"] = len(steady)
        run["steady_rps"] = len(steady) / 15
        run["steady_p50_ms"] = percentile(steady, 0.50)
        run["steady_p99_ms"] = percentile(steady, 0.99)
        bursts = hey(url, BODIES / "row.json", "-z", "15s", "-c", "4", "-q", "50")
        run["bursts_of_4_p50_ms"] = percentile(bursts, 0.50)
        run["bursts_of_4_p99_ms"] = percentile(bursts, 0.99)
        run["max_rps_2_workers"] = wrk_rps(url, BODIES / "row.json")
        batch = hey(url, BODIES / "batch.json", "-n", "30", "-c", "1")
        run["batch_1000_rows_p50_ms"] = statistics.median(batch)
        memory = rss_mb(process)
        run["rss_mb_by_process"] = memory
        run["rss_mb_max_process"] = max(memory.values())
    finally:
        process.terminate()
        process.wait()
    return run


def main(runs: int) -> None:
    for tool in ("hey", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install hey wrk")
    prepare()
    results = []
    for i in range(runs):
        results.append(one_run())
        print(json.dumps({"run": i, **results[-1]}), file=sys.stderr, flush=True)
    numbers = [k for k, v in results[0].items() if isinstance(v, int | float)]
    medians = {f"{k}_median": round(statistics.median(r[k] for r in results), 3) for k in numbers}
    print(
        json.dumps(
            {
                "benchmark": "service_loopback",
                **medians,
                **{f"{k}_runs": [round(r[k], 3) for r in results] for k in numbers},
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
