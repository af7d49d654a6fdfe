"""Dagster wiring only, one folder per stage in flow order. Logic lives in the plain modules."""
