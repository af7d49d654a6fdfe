"""Helpers the Dagster wiring uses that are not assets themselves (as dagster-open-platform's
``lib/``): they know Dagster and its integrations, and no domain rule."""
