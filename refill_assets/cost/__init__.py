"""Cost telemetry: prices, estimates, actuals, forecasts and guardrails."""
