"""Refill-timing models and their metrics: pure functions and classes, no Dagster or MLflow.

Every model is fitted on the feature frame (one row per ``rx_id`` × ``as_of_date``) and
predicts the common schema in :mod:`refill_assets.models.schema`.
"""
