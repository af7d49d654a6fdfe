"""The landing zone: ``<root>/<extract>/dt=<YYYY-MM-DD>/<file>``, local or on S3.

S3 is read with boto3 (the Dagster layer's ``LandingResource`` makes the
client) rather than DuckDB's httpfs: extensions cannot be downloaded at run
time here or in an air-gapped client network, and boto3 honours the usual
AWS credential chain and endpoint overrides (moto on loopback in tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

_DT_DIR = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class DeliveredFile:
    extract: str
    dt: date
    name: str  # file name inside the dt folder
    ref: str  # local path or S3 key


class Landing:
    """Lists and reads delivered files. ``uri`` is a folder or ``s3://bucket/prefix``."""

    def __init__(self, uri: str, s3_client: Any | None = None):
        self.uri = uri
        self._s3 = s3_client
        if uri.startswith("s3://"):
            bucket, _, prefix = uri[len("s3://") :].partition("/")
            self._bucket, self._prefix = bucket, prefix.strip("/")
            if s3_client is None:
                raise ValueError(f"landing zone {uri} is on S3 but no S3 client was given")
        else:
            self._root = Path(uri)

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    def files(self, extract: str) -> list[DeliveredFile]:
        """Every delivered file of an extract, sorted by (dt, name)."""
        found = self._s3_files(extract) if self.is_s3 else self._local_files(extract)
        return sorted(found, key=lambda f: (f.dt, f.name))

    def read(self, f: DeliveredFile) -> bytes:
        if self.is_s3:
            return self._s3.get_object(Bucket=self._bucket, Key=f.ref)["Body"].read()
        return Path(f.ref).read_bytes()

    def delivery_days(self, extracts: Iterable[str]) -> list[date]:
        days = {f.dt for e in extracts for f in self.files(e)}
        return sorted(days)

    def _local_files(self, extract: str) -> Iterable[DeliveredFile]:
        base = self._root / extract
        if not base.is_dir():
            return
        for day_dir in base.iterdir():
            m = _DT_DIR.match(day_dir.name)
            if not (m and day_dir.is_dir()):
                continue
            dt = date.fromisoformat(m.group(1))
            for p in day_dir.iterdir():
                if p.is_file() and not p.name.startswith("."):
                    yield DeliveredFile(extract, dt, p.name, str(p))

    def _s3_files(self, extract: str) -> Iterable[DeliveredFile]:
        prefix = f"{self._prefix}/{extract}/" if self._prefix else f"{extract}/"
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(prefix) :].split("/")
                m = _DT_DIR.match(parts[0]) if len(parts) == 2 else None
                if m and parts[1] and not parts[1].startswith("."):
                    yield DeliveredFile(
                        extract, date.fromisoformat(m.group(1)), parts[1], obj["Key"]
                    )
