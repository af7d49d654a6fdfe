"""The endpoint's invocations from the inference service's request log, and the log from
CloudWatch Logs (real boto3 against moto in server mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
import orjson
import pytest
from botocore.exceptions import ClientError

from refill_assets.cost.endpoint import invocations, log_lines, per_invocation_usd
from refill_assets.cost.estimate import GB, estimate
from refill_assets.cost.prices import ComputeRate, PriceTable

MEMORY_MB = 3072
VERSION = "20261201T000000Z-abc1234"


def request_line(
    path: str = "/invocations",
    *,
    method: str = "POST",
    status: int = 200,
    bytes_in: int = 0,
    bytes_out: int = 0,
    rows: int = 0,
    latency_ms: float | None = 1.0,
) -> str:
    """A line in the shape ``serving.app`` logs for each request (one orjson object)."""
    return orjson.dumps(
        {
            "method": method,
            "path": path,
            "status": status,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "rows": rows,
            "latency_ms": latency_ms,
            "model_version": VERSION,
        }
    ).decode()


# (bytes_in, bytes_out, rows, latency_ms, status) of the billed requests below
CALLS = [
    (812, 240, 1, 12.5, 200),
    (40_960, 9_000, 100, 250.125, 200),
    (30, 88, 0, 0.9, 415),  # a refused request still ran, and is billed
]
LINES = [
    "INFO:     Started server process [7]",
    request_line("/ping", method="GET", bytes_out=15, latency_ms=0.05),
    *(
        request_line(bytes_in=i, bytes_out=o, rows=r, latency_ms=ms, status=s)
        for i, o, r, ms, s in CALLS
    ),
    "invocation failed",
    "Traceback (most recent call last):",
    orjson.dumps({"event": "model loaded", "model_version": VERSION}).decode(),  # no latency
    request_line("/ping", method="GET", bytes_out=15, latency_ms=0.04),
]
OTHER = 4  # the start-up line, "invocation failed", the traceback, the JSON without latency


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


def test_only_invocations_are_billed_and_other_lines_counted():
    calls = invocations(LINES, MEMORY_MB)
    assert calls.memory_mb == MEMORY_MB
    assert calls.other_lines == OTHER
    assert calls.frame.height == len(CALLS)  # the /ping health checks are neither
    assert calls.frame["latency_ms"].to_list() == [c[3] for c in CALLS]
    assert calls.frame["status"].to_list() == [c[4] for c in CALLS]
    assert calls.frame["rows"].to_list() == [c[2] for c in CALLS]
    assert calls.frame["model_version"].to_list() == [VERSION] * len(CALLS)


def test_gb_seconds_are_latency_seconds_times_memory_gb():
    frame = invocations(LINES, MEMORY_MB).frame
    expected = [ms / 1000 * MEMORY_MB / 1024 for *_, ms, _ in CALLS]
    assert frame["gb_seconds"].to_list() == pytest.approx(expected)
    assert frame["data_bytes"].to_list() == [i + o for i, o, *_ in CALLS]
    # twice the memory, twice the GB-seconds
    double = invocations(LINES, 2 * MEMORY_MB).frame["gb_seconds"].to_list()
    assert double == pytest.approx([2 * g for g in expected])


def test_usage_sums_the_invocations():
    usage = invocations(LINES, MEMORY_MB).usage()
    assert usage.gb_seconds == pytest.approx(sum(ms / 1000 * 3 for *_, ms, _ in CALLS))
    assert usage.data_bytes == sum(i + o for i, o, *_ in CALLS)
    assert usage.endpoint_memory_mb == MEMORY_MB
    assert usage.compute_seconds == 0 and usage.s3_puts == 0


def test_no_invocation_is_no_usage():
    calls = invocations(["INFO:     Started server process [7]", request_line("/ping")], 1024)
    assert calls.frame.height == 0 and calls.other_lines == 1
    usage = calls.usage()
    assert usage.gb_seconds == 0 and usage.data_bytes == 0


def test_each_invocations_cost_is_priced_from_the_table_rows(prices):
    calls = invocations(LINES, MEMORY_MB)
    costed = per_invocation_usd(calls, prices)
    compute = prices.price("sagemaker_serverless_compute", MEMORY_MB).value
    data = prices.price("sagemaker_serverless_data").value
    expected = [
        ms / 1000 * (MEMORY_MB / 1024) * compute + (i + o) / GB * data for i, o, _, ms, _ in CALLS
    ]
    assert costed["cost_usd"].to_list() == pytest.approx(expected, rel=1e-12)
    # and they add up to the estimate of the invocations' usage
    total = estimate(calls.usage(), prices, ComputeRate(1.0, "unused")).usd
    assert sum(costed["cost_usd"].to_list()) == pytest.approx(total, rel=1e-12)


def test_an_invocation_without_latency_cannot_be_priced():
    lines = [request_line(latency_ms=5.0), request_line(latency_ms=None)]
    with pytest.raises(ValueError, match="1 invocation records without latency_ms"):
        invocations(lines, MEMORY_MB)


# --- CloudWatch Logs ------------------------------------------------------------------


@pytest.fixture
def logs(endpoint, s3):  # s3: the fake credentials and region of the environment
    return boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _put(logs, group: str, stream: str, events: list[tuple[int, str]], batch: int = 4000) -> None:
    for first in range(0, len(events), batch):
        chunk = events[first : first + batch]
        answer = logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": t, "message": m} for t, m in chunk],
        )
        assert "rejectedLogEventsInfo" not in answer, answer


def test_log_lines_returns_the_windows_messages_over_every_page(logs):
    name = f"refill-{uuid.uuid4().hex[:8]}"
    group = f"/aws/sagemaker/Endpoints/{name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0abc")
    # moto takes events of the last 14 days only: a window of 11 s a day ago
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    end = start + timedelta(seconds=11)
    first, last = _ms(start), _ms(end)
    # more than moto's (and AWS's) 10,000 events a page: the window needs two pages at least
    inside = [
        (t, request_line(bytes_in=t - first, latency_ms=1.0 + (t - first) % 7))
        for t in range(first, last)
    ]
    outside_before = [(first - 60_000, "before: a minute early"), (first - 1, "before: 1 ms early")]
    outside_after = [(last, "after: at the window's end"), (last + 5_000, "after: 5 s late")]
    _put(logs, group, "AllTraffic/i-0abc", outside_before + inside + outside_after)

    pages = []
    logs.meta.events.register(
        "after-call.cloudwatch-logs.FilterLogEvents",
        lambda parsed, **_: pages.append(len(parsed["events"])),
    )
    got = list(log_lines(logs, name, start, end))

    assert len(pages) >= 2, pages
    assert got == [m for _, m in inside]  # the window's, in time order, each once
    assert not any(m.startswith(("before", "after")) for m in got)
    # and the lines price as the window's invocations
    calls = invocations(got, MEMORY_MB)
    assert calls.frame.height == len(inside) and calls.other_lines == 0


def test_log_lines_of_an_endpoint_without_a_log_group_is_an_error(logs):
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as raised:
        list(log_lines(logs, f"no-such-{uuid.uuid4().hex[:8]}", now - timedelta(hours=1), now))
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
