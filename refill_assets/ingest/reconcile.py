"""The reconciliation of the landing zone: every file seen is loaded, duplicate, rejected or
skipped, and each skipped file has its reason.

Ingestion records what it did with each file it read in ``raw.files`` (loaded, duplicate,
rejected whole). The reconciliation lists *every* file under the landing root, the ones
ingestion never looked at too, and classifies each (``classify``, vectorised):

- the ``raw.files`` status of a delivery it holds;
- skipped, with a code of ``SKIP_REASONS``, for the rest. Two of them are accounted for
  (``ACCOUNTED``): a hidden name (an upload in progress) and a delivery after the run's last
  day (a later run takes it in). Every other skip is a file *neither loaded nor accounted
  for*: outside the partitions, a folder that is no extract, not in a ``dt=YYYY-MM-DD``
  folder, or a delivery inside the partitions that is not in ``raw.files`` (its day was
  loaded before it arrived, or never run). Those fail the blocking check ``files_reconciled``.

``reconcile`` runs it for one extract after that extract's ingestion, records the rows in
``raw.landing_files`` (the extract's files and those outside any extract) and returns them;
``outcome`` is the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.contract.raw_tables import FILES_TABLE, LANDING_FILES_TABLE, create_table_sql
from refill_assets.ingest.checks import Outcome
from refill_assets.ingest.landing import Landing
from refill_assets.ingest.partition_start import PartitionStart
from refill_assets.storage.warehouse import replace_rows

TABLE = "raw.landing_files"
STATUSES = ("loaded", "duplicate", "rejected", "skipped")
SKIP_REASONS = {
    "hidden": "a hidden name: an upload in progress, not a delivery yet",
    "after_window": "delivered after the run's last day: a later run loads it",
    "before_partitions": "delivered before the first partition",
    "not_loaded": "its day is in the partitions, but it was not loaded"
    " (its day was loaded before it arrived, or has not been run)",
    "outside_dt_folder": "not directly in a dt=YYYY-MM-DD folder of its extract",
    "unknown_extract": "in a folder that is no extract of the contract",
    "not_in_extract_folder": "at the landing zone's root, outside any extract folder",
}
ACCOUNTED = ("hidden", "after_window")
OUTSIDE = "(outside the extracts)"  # the summary's name for files of no extract
MAX_LISTED = 20  # files named in the check's metadata


@dataclass(frozen=True)
class Reconciliation:
    extract: str
    files: pl.DataFrame  # LANDING_FILES_TABLE rows: the extract's files and those of no extract
    first_delivery: date | None  # the landing zone's first delivery day (any extract)
    start: PartitionStart
    end: date  # the run's last delivery day

    def counts(self) -> dict[str, dict]:
        """Per extract (and ``OUTSIDE``): files seen, each status, the skip reasons."""
        return counts(self.files)

    @property
    def not_accounted(self) -> pl.DataFrame:
        return self.files.filter(~pl.col("accounted"))


def classify(
    paths: list[str], ledger: pl.DataFrame, first_partition: date, end: date
) -> pl.DataFrame:
    """Every path under the landing root (``/``-separated) → LANDING_FILES_TABLE rows.

    ``ledger``: ``raw.files`` (``_file``, ``status``, ``reason``); ``first_partition`` and
    ``end``: the partitions' first day and the run's last delivery day.
    """
    parts = pl.col("_file").str.split("/")
    day = (
        pl.col("folder")
        .str.extract(r"^dt=(\d{4}-\d{2}-\d{2})$", 1)
        .str.to_date("%Y-%m-%d", strict=False)
    )
    frame = (
        pl.DataFrame({"_file": paths}, schema={"_file": pl.String})
        .with_columns(
            depth=parts.list.len(),
            extract=pl.when(parts.list.len() > 1).then(parts.list.first()),
            folder=parts.list.get(1, null_on_oob=True),
            hidden=parts.list.eval(pl.element().str.starts_with(".")).list.any(),
        )
        .with_columns(known=pl.col("extract").is_in(list(EXTRACTS)).fill_null(False))
        .with_columns(_dt=pl.when(pl.col("known") & (pl.col("depth") == 3)).then(day))
    )
    ledger = ledger.select("_file", ledger_status="status", ledger_reason="reason").unique(
        "_file", keep="last"
    )
    frame = frame.join(ledger, on="_file", how="left")
    unplaced = (
        pl.when(pl.col("hidden"))
        .then(pl.lit("hidden"))
        .when(pl.col("depth") == 1)
        .then(pl.lit("not_in_extract_folder"))
        .when(~pl.col("known"))
        .then(pl.lit("unknown_extract"))
        .when(pl.col("_dt").is_null())
        .then(pl.lit("outside_dt_folder"))
    )
    skip = (
        pl.when(unplaced.is_not_null())
        .then(unplaced)
        .when(pl.col("ledger_status").is_not_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col("_dt") > end)
        .then(pl.lit("after_window"))
        .when(pl.col("_dt") < first_partition)
        .then(pl.lit("before_partitions"))
        .otherwise(pl.lit("not_loaded"))
    )
    return (
        frame.with_columns(skip=skip)
        .select(
            "extract",
            "_dt",
            "_file",
            status=pl.coalesce(
                pl.when(pl.col("skip").is_not_null()).then(pl.lit("skipped")),
                "ledger_status",
            ),
            reason=pl.coalesce("skip", "ledger_reason"),
            accounted=pl.col("skip").is_null() | pl.col("skip").is_in(ACCOUNTED),
        )
        .sort("_file")
    )


def counts(files: pl.DataFrame) -> dict[str, dict]:
    """Per extract (files of no extract under ``OUTSIDE``): ``seen`` and each status's
    count, ``skipped_reasons`` (code → files) and ``not_accounted``."""
    named = files.with_columns(
        pl.when(pl.col("extract").is_in(list(EXTRACTS)))
        .then(pl.col("extract"))
        .otherwise(pl.lit(OUTSIDE))
        .alias("extract")
    )
    totals = named.group_by("extract").agg(
        seen=pl.len(),
        **{s: (pl.col("status") == s).sum() for s in STATUSES},
        not_accounted=(~pl.col("accounted")).sum(),
    )
    reasons = (
        named.filter(pl.col("status") == "skipped")
        .group_by("extract", "reason")
        .len()
        .sort("reason")
    )
    out = {}
    for row in totals.to_dicts():
        extract = row.pop("extract")
        out[extract] = row | {"skipped_reasons": {}}
    for extract, reason, n in reasons.iter_rows():
        out[extract]["skipped_reasons"][reason] = n
    return dict(sorted(out.items()))


def first_delivery(files: pl.DataFrame) -> date | None:
    """The first day with a delivery of any extract (a visible file in a dt folder)."""
    return files.filter(pl.col("reason").ne_missing("hidden"))["_dt"].min()


def reconcile(
    con: duckdb.DuckDBPyConnection, landing: Landing, extract: str, start: PartitionStart, end: date
) -> Reconciliation:
    """The landing zone reconciled against ``raw.files`` for ``extract``; its rows (and those
    of files outside any extract) replace the previous ones in ``raw.landing_files``."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(create_table_sql(TABLE, LANDING_FILES_TABLE))
    con.execute(create_table_sql("raw.files", FILES_TABLE))
    ledger = con.execute("SELECT _file, status, reason FROM raw.files").pl()
    everything = classify(landing.paths(), ledger, start.day, end)
    outside = pl.col("extract").is_null() | ~pl.col("extract").is_in(list(EXTRACTS))
    mine = everything.filter((pl.col("extract") == extract).fill_null(False) | outside)
    replace_rows(
        con,
        TABLE,
        "extract = $x OR extract IS NULL OR NOT list_contains($extracts, extract)",
        {"x": extract, "extracts": list(EXTRACTS)},
        mine,
    )
    return Reconciliation(extract, mine, first_delivery(everything), start, end)


def outcome(rec: Reconciliation) -> Outcome:
    """Every file of the extract (and every file of no extract) is loaded or accounted for:
    files seen = loaded + duplicate + rejected + skipped, and each skip is expected (a hidden
    upload, a delivery after the run's last day). Fails on any other skip."""
    table = rec.counts()
    empty = {"seen": 0, **dict.fromkeys(STATUSES, 0), "not_accounted": 0, "skipped_reasons": {}}
    own = table.setdefault(rec.extract, empty)
    missing = rec.not_accounted
    listed = [
        {"file": f, "reason": r}
        for f, r in missing.head(MAX_LISTED).select("_file", "reason").rows()
    ]
    metadata = {
        "files_seen": own["seen"],
        **{f"files_{s}": own[s] for s in STATUSES},
        "not_accounted_for": missing.height,
        "reconciliation": table,
        "files_not_accounted_for": listed,
        "first_partition": rec.start.day.isoformat(),
    }
    if rec.first_delivery is not None:
        metadata["first_delivery_day"] = rec.first_delivery.isoformat()
    seen = (
        f"{own['seen']} file(s) seen = {own['loaded']} loaded + {own['duplicate']} duplicate"
        f" + {own['rejected']} rejected + {own['skipped']} skipped"
    )
    if missing.height == 0:
        return Outcome(True, seen, metadata)
    why = missing.group_by("reason").agg(n=pl.len(), file=pl.col("_file").min()).sort("reason")
    parts = [f"{n} {SKIP_REASONS[r]} (e.g. {f})" for r, n, f in why.rows()]
    description = f"{missing.height} file(s) neither loaded nor accounted for: {'; '.join(parts)}"
    behind = (missing["reason"] == "before_partitions").any() and rec.start.left_behind(
        rec.first_delivery
    )
    if behind:
        description += f". {behind[0].upper()}{behind[1:]}"
    return Outcome(False, description, metadata)
