"""Point-in-time property: later deliveries never change a feature row of an earlier day.

Warehouse A is the pipeline run through delivery day X; warehouse B is the same
home run on through Y > X. For as-of days D <= X, ``feature_frame`` on A and on
B must agree row for row, while labels (which look ahead) do differ.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refill_assets.features import feature_frame, training_examples
from refill_assets.features.registry import FEATURES
from tests.support.small_world import END, run_through, simulate

X = END - timedelta(days=21)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("pit")
    landing, home = simulate(root), root / "home"
    a = run_through(home, landing, X)
    b = run_through(home, landing, END, since=X + timedelta(days=1))
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        yield ca, cb


@pytest.fixture(scope="module")
def rx_ids(warehouses) -> list[str]:
    # every rx B knows of, so rx A has not seen yet are compared too (both must say: no fill)
    return [
        r for (r,) in warehouses[1].execute("select distinct rx_id from marts.fills").fetchall()
    ]


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    # parallel aggregation may add floats in another order: compare to 1e-9
    floats = [f.name for f in FEATURES if f.dtype == "float"]
    return frame.with_columns(pl.col(floats).round(9))


def _keys(rx_ids: list[str], days: list[date]) -> pl.DataFrame:
    return pl.DataFrame({"rx_id": rx_ids}).join(
        pl.DataFrame({"as_of_date": days}, schema={"as_of_date": pl.Date}), how="cross"
    )


def _assert_same_features(warehouses, keys: pl.DataFrame) -> None:
    a, b = (_comparable(feature_frame(con, keys)) for con in warehouses)
    assert a.height == b.height == keys.height
    differing = pl.concat([a, b]).unique(keep="none")
    assert differing.is_empty(), differing.head(10)


def test_fixed_days_do_not_move(warehouses, rx_ids):
    days = [X - timedelta(days=d) for d in (0, 1, 2, 7, 30, 60)]
    keys = _keys(rx_ids, days)
    _assert_same_features(warehouses, keys)
    # the comparison has teeth: most keys have a known fill and real history
    a = feature_frame(warehouses[0], keys)
    assert a["last_order_id"].null_count() < a.height / 2
    assert a["rx_interval_count"].max() >= 2


@settings(
    max_examples=8,
    deadline=None,
    database=None,  # no example database left in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.dates(min_value=date(2025, 1, 15), max_value=X), min_size=1, max_size=3))
def test_any_earlier_days_do_not_move(warehouses, rx_ids, days):
    _assert_same_features(warehouses, _keys(rx_ids, days))


def test_the_future_is_visible_to_labels_only(warehouses):
    con_a, con_b = warehouses
    examples = training_examples(con_a, seed=0)
    assert examples.height > 500
    # the same snapshots' features computed on B equal A's ...
    features = [f.name for f in FEATURES]
    on_b = feature_frame(con_b, examples.select("rx_id", "as_of_date"))
    assert _comparable(examples.select(on_b.columns)).equals(_comparable(on_b))
    # ... while their labels, which look ahead, move: B has seen refills A had not
    next_fills = con_b.execute(
        "select order_id as last_order_id, next_fill_date from marts.refill_intervals"
    ).pl()
    relabelled = examples.join(next_fills, on="last_order_id").with_columns(
        days_to_refill_b=(pl.col("next_fill_date") - pl.col("as_of_date")).dt.total_days()
    )
    moved = relabelled.filter(pl.col("days_to_refill").ne_missing(pl.col("days_to_refill_b")))
    assert moved.height > 0
    assert moved["days_to_refill"].null_count() == moved.height
    assert set(features) <= set(on_b.columns)
