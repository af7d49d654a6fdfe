"""Dagster wiring only, one folder per stage in flow order. Logic lives in the plain modules."""

import warnings

import dagster as dg

# single-run backfill policies are what make an 18-month backfill one run; we accept the beta
warnings.filterwarnings("ignore", category=dg.BetaWarning)
