"""Every step's estimated cost on the materializations of its assets.

``metered`` wraps an asset's compute function: it times the step (wall seconds are what the
run's task is billed for), adds the drivers the step recorded itself (requests it made: the
``refill/<driver>`` metadata of ``cost.estimate.Usage``), prices them
(``cost.estimate.estimate``) and puts the estimate on each materialization under
``refill/``: the UI plots each figure per asset over time. A step that materializes several
assets shares its cost among them equally; dbt's models each carry their own execution time
(``own_seconds``), streamed as dbt reports them. A partitioned run's figure is its whole
window's, repeated on each partition's event (``run_costs`` counts it once).

An asset that records ``refill/predictions`` also gets ``refill/cost_per_1000_predictions``:
the run's cost so far (this run's materializations in the instance, then this step) per
1,000 predictions.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from refill_assets.cost.estimate import (
    COST,
    ITEM,
    PER_1000,
    PREDICTIONS,
    PREFIX,
    RUN,
    Usage,
    drivers_in,
    estimate,
    unattributed,
)
from refill_assets.cost.prices import ComputeRate, PriceTable
from refill_assets.defs.resources import SETTINGS

PRICES = PriceTable.load()
RATE = ComputeRate.from_env(SETTINGS.deploy_env, PRICES)
_MATERIALIZING = (dg.MaterializeResult, dg.Output, dg.AssetMaterialization)


def metered(fn: Callable | None = None, *, own_seconds: str | None = None):
    """Decorate an asset's compute function (under ``@dg.asset``/``@dg.multi_asset``).
    ``own_seconds``: the metadata key each event carries its own duration under (dbt's
    "Execution Duration"); its events then pass through as they come."""
    if fn is None:
        return functools.partial(metered, own_seconds=own_seconds)

    @functools.wraps(fn)
    def step(context, *args, **kwargs):
        if own_seconds is not None:
            for event in _events(fn(context, *args, **kwargs)):
                seconds = _number(_metadata(event).get(own_seconds))
                if seconds is not None:
                    event = _costed(context, event, Usage(compute_seconds=float(seconds)))
                yield event
            return
        wall, cpu = time.perf_counter(), time.process_time()
        events: list = []
        try:
            events.extend(_events(fn(context, *args, **kwargs)))
        except BaseException:
            yield from events  # what the step reported before it failed is not lost
            raise
        used = Usage(
            compute_seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu
        )
        share = 1 / max(1, sum(isinstance(e, _MATERIALIZING) for e in events))
        for event in events:
            yield (
                _costed(context, event, used.scaled(share))
                if isinstance(event, _MATERIALIZING)
                else event
            )

    return step


def _events(out):
    if inspect.isgenerator(out):
        yield from out
    elif out is not None:
        yield out


def _metadata(event) -> dict:
    return dict(event.metadata or {})


def _number(value) -> float | None:
    """A metadata value as a number (raw, or a Dagster MetadataValue), else None."""
    value = getattr(value, "value", value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _costed(context, event, used: Usage):
    meta = _metadata(event)
    recorded = {k: _number(v) for k, v in meta.items() if k.startswith(PREFIX)}
    priced = estimate(used + drivers_in(recorded), PRICES, RATE)
    meta.update(priced.metadata())
    predictions = recorded.get(PREDICTIONS)
    if predictions:
        so_far = run_costs(context.instance, context.run_id)["cost_usd"].sum()
        meta[PER_1000] = (so_far + priced.usd) / predictions * 1000
    if isinstance(event, dg.MaterializeResult):
        return event._replace(metadata=meta)
    return event.with_metadata(meta)


def run_costs(instance: dg.DagsterInstance, run_id: str) -> pl.DataFrame:
    """The run's estimates so far, one row per asset and priced item (asset, item,
    cost_usd): every materialization of the run that carries one, each asset once."""
    seen: dict[str, dict] = {}
    cursor = None
    while True:
        page = instance.get_records_for_run(
            run_id, cursor=cursor, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=5000
        )
        for record in page.records:
            mat = record.event_log_entry.asset_materialization
            if mat is not None and COST in mat.metadata:
                seen[mat.asset_key.to_user_string()] = mat.metadata
        if not page.has_more:
            break
        cursor = page.cursor
    rows = [
        {"asset": asset, "item": key.removeprefix(ITEM), "cost_usd": float(value.value)}
        for asset, meta in seen.items()
        for key, value in meta.items()
        if key.startswith(ITEM)
    ]
    return pl.DataFrame(
        rows, schema={"asset": pl.String, "item": pl.String, "cost_usd": pl.Float64}
    )


def ledger_rows(context: dg.AssetExecutionContext, costs: pl.DataFrame) -> pl.DataFrame:
    """``costs`` (``run_costs``) as rows of ``cost.estimates``: the run, its job, the day it
    ran and the delivery days it processed (its partition range; none: the day it ran); and
    the run's time so far that no step accounts for (asset ``(run)``)."""
    run = context.run
    started = context.instance.get_run_record_by_id(run.run_id).start_time or time.time()
    ran_on = datetime.fromtimestamp(started, UTC).date()
    attributed = costs.filter(pl.col("item") == "compute")["cost_usd"].sum()
    rest = unattributed(time.time() - started, attributed, RATE)
    costs = pl.concat([costs, pl.DataFrame([{"asset": RUN, "item": "compute", "cost_usd": rest}])])
    tags = run.tags
    first = tags.get("dagster/asset_partition_range_start", tags.get("dagster/partition"))
    last = tags.get("dagster/asset_partition_range_end", tags.get("dagster/partition"))
    start = date.fromisoformat(first) if first else ran_on
    end = date.fromisoformat(last) if last else ran_on
    return costs.with_columns(
        run_id=pl.lit(run.run_id),
        job=pl.lit(run.job_name),
        ran_on=pl.lit(ran_on),
        window_start=pl.lit(start),
        window_end=pl.lit(end),
    )
