"""The endpoint's cost per invocation, from the inference service's JSON request log.

The service writes one JSON line per request (``serving.app``: path, status, bytes in and
out, latency, model version); on SageMaker its stdout lands in CloudWatch Logs under
``/aws/sagemaker/Endpoints/<endpoint>``. Serverless Inference bills each invocation's
duration at the configured memory (GB-seconds) and its payload in and out: latency x memory
and bytes are the drivers, priced by ``estimate``. A line that is not one of ours (the
server's start-up, a traceback) is counted, not guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
import polars as pl

from refill_assets.cost.estimate import GB, Usage
from refill_assets.cost.prices import PriceTable

LOG_GROUP = "/aws/sagemaker/Endpoints/{endpoint}"
INVOCATIONS = "/invocations"
_FIELDS = {
    "status": pl.Int64,
    "bytes_in": pl.Int64,
    "bytes_out": pl.Int64,
    "rows": pl.Int64,
    "latency_ms": pl.Float64,
    "model_version": pl.String,
}


@dataclass(frozen=True)
class Invocations:
    frame: pl.DataFrame  # one row per invocation: _FIELDS, gb_seconds, data_bytes
    other_lines: int  # lines that were not a request record
    memory_mb: int

    def usage(self) -> Usage:
        f = self.frame
        return Usage(
            gb_seconds=float(f["gb_seconds"].sum()),
            endpoint_memory_mb=self.memory_mb,
            data_bytes=int(f["data_bytes"].sum()),
        )


def invocations(lines: Iterable[str], memory_mb: int) -> Invocations:
    """The ``/invocations`` requests among the log ``lines`` (health checks are not billed
    as invocations), with their GB-seconds at ``memory_mb``."""
    records, other = [], 0
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            other += 1
            continue
        if not isinstance(record, dict) or "latency_ms" not in record:
            other += 1
        elif record.get("path") == INVOCATIONS:
            records.append({k: record.get(k) for k in _FIELDS})
    frame = pl.DataFrame(records, schema=_FIELDS).with_columns(
        gb_seconds=pl.col("latency_ms") / 1000 * (memory_mb / 1024),
        data_bytes=pl.col("bytes_in").fill_null(0) + pl.col("bytes_out").fill_null(0),
    )
    missing = frame.filter(pl.col("latency_ms").is_null()).height
    if missing:
        raise ValueError(f"{missing} invocation records without latency_ms: cannot be priced")
    return Invocations(frame, other, memory_mb)


def per_invocation_usd(calls: Invocations, prices: PriceTable) -> pl.DataFrame:
    """Each invocation's cost, as a column beside its drivers."""
    compute = prices.price("sagemaker_serverless_compute", calls.memory_mb).value
    data = prices.price("sagemaker_serverless_data").value
    return calls.frame.with_columns(
        cost_usd=pl.col("gb_seconds") * compute + pl.col("data_bytes") / GB * data
    )


def log_lines(logs, endpoint: str, start: datetime, end: datetime) -> Iterator[str]:
    """The endpoint's log lines in [start, end) from CloudWatch Logs (``logs``: a boto3
    client), every page. No log group is an error (ResourceNotFoundException): an endpoint
    logs from its first start, so a missing group is a wrong name, not a quiet night."""
    group = LOG_GROUP.format(endpoint=endpoint)
    window = {
        "logGroupName": group,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000) - 1,
    }
    for page in logs.get_paginator("filter_log_events").paginate(**window):
        for event in page["events"]:
            yield event["message"]
