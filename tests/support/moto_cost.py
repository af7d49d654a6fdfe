"""What moto's Cost Explorer lacks for the cost tests: ``GetCostForecast``.

moto 5.2.5 raises NotImplementedError for it. ``get_cost_forecast`` below, patched onto
moto's CostExplorerResponse (the server runs in the test process), answers from a queue the
test fills with ``queue_forecast`` and records each request's parameters in ``REQUESTS``.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

ANSWERS: list[dict[str, Any]] = []
REQUESTS: list[dict[str, Any]] = []


def queue_forecast(answer: dict[str, Any]) -> None:
    """Queue the next answer, in the real API's shape:
    ``{"Total": {"Amount": "...", "Unit": "USD"}, "ForecastResultsByTime": [...]}``."""
    ANSWERS.append(answer)


def reset() -> None:
    ANSWERS.clear()
    REQUESTS.clear()


def get_cost_forecast(self) -> str:
    """``GetCostForecast`` for moto's CostExplorerResponse: the next queued answer."""
    REQUESTS.append(json.loads(self.body))
    if not ANSWERS:
        # a 400, as the real service answers when it has no forecast: a 5xx would be retried
        raise JsonRESTError("DataUnavailableException", "no forecast queued by the test")
    return json.dumps(ANSWERS.pop(0))
