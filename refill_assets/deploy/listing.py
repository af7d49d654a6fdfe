"""Every item of an AWS list call, through boto3's own paginators (each service names its
page tokens its own way; the paginator knows them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def every(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])
