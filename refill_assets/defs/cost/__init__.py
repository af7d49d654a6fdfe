"""Cost telemetry: every step metered, the daily actuals and guardrails, the untagged sweep."""
