"""Ops alerts to a Slack channel through an incoming webhook (plain HTTP, no SDK).

A failed run reaches ops anyway; a failed *warning* check leaves the run
green, and OSS Dagster has no alert for it — so both go through here.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckFailure:
    asset: str
    check: str
    severity: str  # ERROR blocks downstream, WARN does not
    description: str
    look_at: str = ""  # where ops should look first (the check's ``look_at`` metadata)


def slack_message(
    job: str, run_id: str, failures: list[CheckFailure], run_error: str | None = None
) -> dict:
    """A Slack message: what failed, in which run, and what to look at first."""
    head = f"refill-platform · job `{job}` run `{run_id[:8]}`"
    lines = [f":red_circle: {head} FAILED: {run_error}"] if run_error else [f":warning: {head}"]
    for f in sorted(failures, key=lambda f: (f.severity != "ERROR", f.asset, f.check)):
        lines.append(f"• [{f.severity}] `{f.asset}` check `{f.check}`: {f.description}")
        if f.look_at:
            lines.append(f"    ↳ look at: {f.look_at}")
    return {"text": "\n".join(lines)}


def post(webhook_url: str, message: dict, timeout_s: float = 10.0) -> int:
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return response.status
