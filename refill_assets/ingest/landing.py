"""The landing zone: ``<root>/<extract>/dt=<YYYY-MM-DD>/<file>``, local or on S3.

S3 is read with boto3 (the Dagster layer's ``LandingResource`` makes the
client) rather than DuckDB's httpfs: extensions cannot be downloaded at run
time here or in an air-gapped client network, and boto3 honours the usual
AWS credential chain and endpoint overrides (moto on loopback in tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

_DT_DIR = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


def delivery_day(folder: str) -> date | None:
    """The day of a ``dt=YYYY-MM-DD`` folder name; None for any other name (``dt=2024-02-30``
    too: a folder the platform cannot place is left to the reconciliation, never a crash)."""
    m = _DT_DIR.match(folder)
    if m is None:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def is_hidden(name: str) -> bool:
    """A producer's upload in progress (``.part`` style name) is not a delivery yet."""
    return name.startswith(".")


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

    def first_delivery_day(self, extracts: Iterable[str]) -> date | None:
        """The earliest day with a delivered file of any of ``extracts``; None if there is
        none. Cheaper than ``delivery_days``: it stops at each extract's first file."""
        found = [d for e in extracts if (d := self._first_day(e)) is not None]
        return min(found, default=None)

    def paths(self) -> list[str]:
        """Every file under the root, as a ``/``-separated path relative to it: what the
        reconciliation accounts for, whether or not it is a delivery."""
        return sorted(self._s3_paths() if self.is_s3 else self._local_paths())

    def _first_day(self, extract: str) -> date | None:
        if self.is_s3:
            # keys come back in UTF-8 order, and dt=YYYY-MM-DD sorts by day
            return next((f.dt for f in self._s3_files(extract)), None)
        base = self._root / extract
        if not base.is_dir():
            return None
        days = sorted((d, p) for p in base.iterdir() if (d := delivery_day(p.name)) and p.is_dir())
        for day, folder in days:
            if any(f.is_file() and not is_hidden(f.name) for f in folder.iterdir()):
                return day
        return None

    def _local_paths(self) -> Iterable[str]:
        if not self._root.is_dir():
            return
        for folder, _, names in os.walk(self._root, followlinks=True):  # as files() does
            rel = Path(folder).relative_to(self._root)
            for name in names:
                yield (rel / name).as_posix()

    def _s3_paths(self) -> Iterable[str]:
        prefix = f"{self._prefix}/" if self._prefix else ""
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):  # a console's "folder" marker holds nothing
                    yield obj["Key"][len(prefix) :]

    def _local_files(self, extract: str) -> Iterable[DeliveredFile]:
        base = self._root / extract
        if not base.is_dir():
            return
        for day_dir in base.iterdir():
            dt = delivery_day(day_dir.name)
            if dt is None or not day_dir.is_dir():
                continue
            for p in day_dir.iterdir():
                if p.is_file() and not is_hidden(p.name):
                    yield DeliveredFile(extract, dt, p.name, str(p))

    def _s3_files(self, extract: str) -> Iterable[DeliveredFile]:
        prefix = f"{self._prefix}/{extract}/" if self._prefix else f"{extract}/"
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(prefix) :].split("/")
                dt = delivery_day(parts[0]) if len(parts) == 2 else None
                if dt and parts[1] and not is_hidden(parts[1]):
                    yield DeliveredFile(extract, dt, parts[1], obj["Key"])
