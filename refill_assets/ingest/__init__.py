"""Ingestion: landing zone → raw zone (Parquet) → ``raw`` schema of the warehouse.

Plain Python, no Dagster. ``load.ingest_days`` is the one entry point; the
other modules are its steps in order: ``landing`` (list and fetch delivered
files, local or S3), ``reading`` (bytes → rows of strings, or a whole-file
rejection), ``validate`` (contract types and rules → accepted rows and
quarantined rows with a reason), ``normalize`` (canonical values), ``pii``
(keyed hashing), ``sig`` (units per day from free-text directions).
"""
