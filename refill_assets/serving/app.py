"""The inference service as a plain ASGI app: the SageMaker container contract, standalone too.

- ``GET /ping``: 200 once the model is loaded (SageMaker's health check; never needs a key).
- ``POST /invocations``: ``application/json`` (``{"instances": [{feature: value}, ...]}``)
  or ``text/csv`` (a header row of feature names, then one row per instance; an empty cell
  is null); at most ``MAX_PAYLOAD_BYTES`` (SageMaker Serverless' 4 MB). Answers
  ``{"model_version": ..., "predictions": [{predicted_days_to_refill, p10_days, p90_days,
  lapse_probability}, ...]}`` in the order of the instances.

With ``REFILL_API_KEY`` set (standalone), ``/invocations`` needs the header ``x-api-key``
with that key (constant-time compare); SageMaker authenticates its callers itself and runs
the container without one. Input that does not fit the model's schema gets a 4xx whose
message names the field; any other error a 500, and the worker goes on. Each request is
one JSON log line: method, path, status, sizes, rows, latency, model version; never a
payload value.

No web framework: two routes do not need one, and every microsecond of a single-row request
counts (see benchmarks/bench_service.py).
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import os
import sys
import time
from operator import itemgetter
from pathlib import Path

import orjson

from refill_assets.serving.predictor import InputError, ServedModel

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
DRAIN_BYTES = 4 * MAX_PAYLOAD_BYTES
DEFAULT_MODEL_DIR = "/opt/ml/model"  # where SageMaker unpacks model.tar.gz

log = logging.getLogger("refill.serving")


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def create_app(model_dir: str | None = None, api_key: str | None = None):
    """The ASGI app for the bundle in ``model_dir`` (default ``REFILL_MODEL_DIR``, else
    SageMaker's /opt/ml/model); ``api_key`` defaults to ``REFILL_API_KEY`` (none: open)."""
    folder = Path(model_dir or os.environ.get("REFILL_MODEL_DIR", DEFAULT_MODEL_DIR))
    model = ServedModel.load(folder)
    key = (api_key if api_key is not None else os.environ.get("REFILL_API_KEY", "")).encode()
    _configure_logging()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        size_in, rows, status, body = 0, 0, 200, b""
        try:
            if path == "/ping" and method == "GET":
                body = b'{"status":"ok"}'
            elif path == "/invocations" and method == "POST":
                _authorize(scope, key)
                payload = await _read_body(receive)
                size_in = len(payload)
                body, rows = _invoke(model, _content_type(scope), payload)
            elif path in ("/ping", "/invocations"):
                raise HttpError(405, f"{method} is not allowed on {path}")
            else:
                raise HttpError(404, f"no route {path}; routes: GET /ping, POST /invocations")
        except HttpError as error:
            status, body = error.status, orjson.dumps({"error": str(error)})
        except Exception:  # the worker survives anything a request does
            log.exception("invocation failed")
            status, body = 500, b'{"error":"internal error"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        log.info(
            orjson.dumps(
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "bytes_in": size_in,
                    "bytes_out": len(body),
                    "rows": rows,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                    "model_version": model.version,
                }
            ).decode()
        )

    return app


def _invoke(model: ServedModel, content_type: str, payload: bytes) -> tuple[bytes, int]:
    if content_type == "application/json":
        columns = _json_columns(payload)
    elif content_type == "text/csv":
        columns = _csv_columns(payload, set(model.manifest["numeric"]))
    else:
        raise HttpError(415, f"content type {content_type!r}: send application/json or text/csv")
    try:
        predicted = model.predict(model.matrix(columns), columns)
    except InputError as error:
        raise HttpError(400, str(error)) from None
    names = list(predicted)
    values = [column.tolist() for column in predicted.values()]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    return orjson.dumps({"model_version": model.version, "predictions": rows}), len(rows)


def _json_columns(payload: bytes) -> dict[str, list]:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise HttpError(400, f"body is not JSON: {error}") from None
    instances = document.get("instances") if isinstance(document, dict) else None
    if not isinstance(instances, list) or not instances:
        raise HttpError(400, 'field "instances": expected a non-empty list of feature objects')
    if not all(isinstance(row, dict) for row in instances):
        row = next(i for i, r in enumerate(instances) if not isinstance(r, dict))
        raise HttpError(400, f'field "instances" row {row}: expected an object')
    names = list(instances[0])
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    try:
        if any(len(row) != len(names) for row in instances):
            raise KeyError
        values = list(zip(*map(pick, instances), strict=True))
    except KeyError:
        row = next(i for i, r in enumerate(instances) if r.keys() != instances[0].keys())
        odd = sorted(set(instances[row]) ^ set(names))[0]
        raise HttpError(
            400, f"field {odd!r} row {row}: every instance needs the same fields"
        ) from None
    return {name: list(column) for name, column in zip(names, values, strict=True)}


def _csv_columns(payload: bytes, numeric: set[str]) -> dict[str, list]:
    try:
        reader = csv.reader(io.StringIO(payload.decode("utf-8")))
        header = next(reader)
        rows = list(reader)
    except (UnicodeDecodeError, StopIteration, csv.Error) as error:
        raise HttpError(400, f"body is not CSV with a header row: {error}") from None
    if not rows:
        raise HttpError(400, "CSV body has a header but no rows")
    if any(len(r) != len(header) for r in rows):
        row = next(i for i, r in enumerate(rows) if len(r) != len(header))
        raise HttpError(400, f"CSV row {row} has {len(rows[row])} cells, the header {len(header)}")
    booleans = {"true": True, "false": False}
    columns = {}
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        if name in numeric:
            columns[name] = [None if c == "" else booleans.get(c.lower(), c) for c in cells]
        else:
            columns[name] = [None if c == "" else c for c in cells]
    return columns


def _authorize(scope, key: bytes) -> None:
    if not key:
        return
    given = next((v for k, v in scope["headers"] if k == b"x-api-key"), b"")
    if not hmac.compare_digest(given, key):
        raise HttpError(401, "missing or wrong x-api-key")


def _content_type(scope) -> str:
    raw = next((v for k, v in scope["headers"] if k == b"content-type"), b"application/json")
    return raw.decode("latin-1").split(";")[0].strip().lower()


async def _read_body(receive) -> bytes:
    """The whole body, or 413 past ``MAX_PAYLOAD_BYTES``. An oversized body is still read
    (up to ``DRAIN_BYTES``), so the client gets the 413 rather than a reset connection."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_PAYLOAD_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False) or size > DRAIN_BYTES:
            break
    if size > MAX_PAYLOAD_BYTES:
        raise HttpError(413, f"payload over {MAX_PAYLOAD_BYTES} bytes: split the batch")
    return b"".join(chunks)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _configure_logging() -> None:
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(os.environ.get("REFILL_SERVING_LOG_LEVEL", "INFO"))
    log.propagate = False
