"""Reports written under ``REFILL_HOME/reports``: plain functions, warehouse in, HTML out."""
