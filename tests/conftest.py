"""Shared fixtures: AWS on loopback (moto in server mode, an S3 client that reaches only it)."""

from __future__ import annotations

import os

import boto3
import pytest
from moto.server import ThreadedMotoServer

# The definitions decide the partitions' first day when they load: the landing zone's first
# delivery day while REFILL_PARTITIONS_START is unset. Pinned for the in-process definitions,
# so that a world left in ./.refill (make demo) does not move the partitions under the tests;
# `refill` run as a process gets its own environment (tests/support/small_world.py).
os.environ.setdefault("REFILL_PARTITIONS_START", "2024-01-01")


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint, monkeypatch, tmp_path):
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
