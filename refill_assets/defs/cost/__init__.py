"""Cost telemetry wiring: every step metered (meter.py), the daily bill (assets.py)."""
