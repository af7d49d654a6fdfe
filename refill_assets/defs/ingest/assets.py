"""One daily-partitioned asset per extract: landing → raw zone → ``raw.<extract>``.

Each materialization also evaluates the extract's quality checks on the same
range, and reconciles the landing zone (``files_reconciled``: every file loaded or
accounted for); schema, required-field validity and the reconciliation block everything
downstream.
"""

import dagster as dg

from refill_assets.contract.extracts import EXTRACTS, PII_COLUMNS
from refill_assets.defs.partitions import START, daily, single_run, window
from refill_assets.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from refill_assets.ingest import reconcile
from refill_assets.ingest.checks import CHECKS, Outcome
from refill_assets.ingest.load import ingest_days
from refill_assets.storage.warehouse import connect

RECONCILIATION_CHECK = "files_reconciled"


def build_ingest_asset(extract: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", extract])
    specs = [
        dg.AssetCheckSpec(name, asset=key, blocking=blocking, description=rule.__doc__)
        for name, rule, blocking in CHECKS
    ]
    specs.append(
        dg.AssetCheckSpec(
            RECONCILIATION_CHECK, asset=key, blocking=True, description=reconcile.outcome.__doc__
        )
    )

    @dg.asset(
        key=key,
        partitions_def=daily,
        backfill_policy=single_run,
        pool=WAREHOUSE_POOL,
        group_name="ingest",
        kinds={"duckdb", "parquet"},
        check_specs=specs,
        description=f"`{extract}` deliveries ({EXTRACTS[extract].format}), validated, "
        "normalised, PII hashed; bad rows in quarantine.rows.",
    )
    def _ingest(
        context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ):
        start, end = window(context)
        if landing.pii_key_is_dev and extract in PII_COLUMNS:
            context.log.warning("REFILL_PII_KEY is not set: hashing PII with the development key")
        zone = landing.landing()
        report = ingest_days(
            extract,
            start,
            end,
            zone,
            warehouse.layout.warehouse,
            warehouse.layout.raw_root,
            landing.pii_key.encode(),
        )
        with connect(warehouse.layout.warehouse) as con:
            reconciled = reconcile.reconcile(con, zone, extract, START, end)
        for f, why in report.files_rejected.items():
            context.log.error(f"rejected whole file {f}: {why}")
        for column, files in report.drift_columns.items():
            context.log.warning(f"schema drift: unknown column {column!r} in {len(files)} file(s)")
        yield dg.MaterializeResult(
            metadata={
                "rows_loaded": report.rows_loaded,
                "rows_quarantined": report.rows_quarantined,
                "files_loaded": report.files_loaded,
                "files_duplicate": len(report.files_duplicate),
                "files_rejected": dg.MetadataValue.json(report.files_rejected),
                "quarantine_reasons": dg.MetadataValue.json(report.quarantine_reasons),
                "drift_columns": dg.MetadataValue.json(report.drift_columns),
                "content_hashes": dg.MetadataValue.json(report.content_hashes),
                "window": f"{start} … {end}",
            }
        )
        with connect(warehouse.layout.warehouse, read_only=True) as con:
            for name, rule, blocking in CHECKS:
                yield _check_result(name, rule(con, extract, start, end), blocking)
        yield _check_result(RECONCILIATION_CHECK, reconcile.outcome(reconciled), True)

    return _ingest


def _check_result(name: str, outcome: Outcome, blocking: bool) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata={
            k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v
            for k, v in outcome.metadata.items()
        },
    )


ingest_assets = [build_ingest_asset(name) for name in EXTRACTS]
