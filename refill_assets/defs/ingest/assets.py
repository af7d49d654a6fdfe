"""One daily-partitioned asset per extract: landing → raw zone → ``raw.<extract>``.

Each materialization also judges the same range: the latest file readable (``schema``),
the landing zone reconciled (``files_reconciled``: every file loaded or accounted for), and
the extract's expectation suites (``quality_blocking``, ``quality_warnings``:
``refill_assets.quality``); all but the warnings block everything downstream.
"""

import dagster as dg

from refill_assets.contract.extracts import EXTRACTS, PII_COLUMNS
from refill_assets.defs.cost.meter import metered
from refill_assets.defs.partitions import START, daily, single_run, window
from refill_assets.defs.quality import checks as quality
from refill_assets.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from refill_assets.ingest import reconcile
from refill_assets.ingest.checks import Outcome, schema
from refill_assets.ingest.load import ingest_days
from refill_assets.storage.warehouse import connect

SCHEMA_CHECK, RECONCILIATION_CHECK = "schema", "files_reconciled"
# the expected data faults of a materialization: file → why, and quarantined rows by reason
REJECTED, QUARANTINED = "files_rejected", "quarantine_reasons"
PROMISE = (
    "the accepted rows (required fields, allowed values, lines loaded once) and each "
    "delivery day (rows within their history's bounds, required fields valid on 99 % of the "
    "latest day's rows, no file rejected, no new column, missing values under 5 %)"
)


def build_ingest_asset(extract: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", extract])
    specs = [
        dg.AssetCheckSpec(SCHEMA_CHECK, asset=key, blocking=True, description=schema.__doc__),
        dg.AssetCheckSpec(
            RECONCILIATION_CHECK, asset=key, blocking=True, description=reconcile.outcome.__doc__
        ),
        *quality.specs(key, PROMISE),
    ]

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
    @metered
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
        # a data fault, not a failure of the step: counted in the metadata, judged by the
        # quality checks (no_file_rejected), the file left in the landing zone
        for f, why in report.files_rejected.items():
            context.log.info(f"rejected whole file {f}: {why}")
        for column, files in report.drift_columns.items():
            context.log.warning(f"schema drift: unknown column {column!r} in {len(files)} file(s)")
        yield dg.MaterializeResult(
            metadata={
                "rows_loaded": report.rows_loaded,
                "rows_quarantined": report.rows_quarantined,
                "files_loaded": report.files_loaded,
                "files_duplicate": len(report.files_duplicate),
                REJECTED: dg.MetadataValue.json(report.files_rejected),
                QUARANTINED: dg.MetadataValue.json(report.quarantine_reasons),
                "drift_columns": dg.MetadataValue.json(report.drift_columns),
                "content_hashes": dg.MetadataValue.json(report.content_hashes),
                "window": f"{start} … {end}",
            }
        )
        # GX takes a second and a half to import: only the steps that validate load it
        from refill_assets.quality import validate

        with connect(warehouse.layout.warehouse) as con:
            yield _check_result(SCHEMA_CHECK, schema(con, extract, start, end))
            verdicts = validate.extract(
                con,
                warehouse.layout,
                extract,
                start,
                end,
                quality.run_name(context.run_id, f"{start}…{end}"),
            )
        yield _check_result(RECONCILIATION_CHECK, reconcile.outcome(reconciled))
        yield from quality.results(key, verdicts)

    return _ingest


def _check_result(name: str, outcome: Outcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata={
            k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v
            for k, v in outcome.metadata.items()
        },
    )


ingest_assets = [build_ingest_asset(name) for name in EXTRACTS]
