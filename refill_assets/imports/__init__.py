"""Importers: real source data in other shapes → the landing-zone contract.

Plain Python (polars), nothing of Dagster: an importer writes a landing zone that
``refill run`` then loads like any other delivery.

- ``dispensing``: a generic dispensing history (patient, drug, fill date, quantity,
  days' supply), e.g. the SMART sample patients in ``../shared/data/smart-refills``.
"""
