"""The outcome of every score: ``monitoring.score_outcomes`` (the contract's "Monitoring outputs").

One row per row of ``scores.rx_refill_scores``: what happened after that prediction, as
known at the warehouse's latest delivery day ("through", the latest ``_dt`` of
``raw.rx_orders``). The table always says what the warehouse knows now, like the marts: a
fill delivered late, or an order cancelled after the fact, changes the outcomes it decides.

Settling, each night, without recomputing history. A score row's outcome changes only when

- its prescription gets news (an order version delivered after the last settling: a new
  fill, a late-delivered one, a cancellation): every row of that rx is recomputed;
- time decides it: its lapse is undecided and the new delivery day reaches its run-out +
  the lapse grace, or it is unsettled and the day reaches its 120-day follow-up (the only
  parts of an outcome that change without news; on the large world after 30 nights, every
  unsettled row recomputed was 81 % of the table, 7.9 s a night, and the share grows with
  the 120 days of unsettled rows);
- it is new (a scoring day not in the table yet, or a day of the run's window, re-scored).

Everything else is left as it is. A run whose window starts on or before the last
settling's day (a re-run of history) recomputes the whole table instead, so a re-run can
never leave it half old, half new; either way the result is the full rebuild's (tested).
The rows are replaced in one transaction, and the day taken in (``monitoring.watermarks``)
with them.

Definitions (the contract's): ``actual_refill_date`` is the first fill (``marts.fills``:
latest version ``filled``/``partial``) after the as-of day; ``run_out_date`` the last fill's
date plus its effective days' supply (null when that fill is no longer a fill, e.g. cancelled
since: then ``lapsed`` stays null and the row settles at 120 days); ``lapsed`` is decided once
a fill came by run-out + the lapse grace (false) or that day has passed (true);
``error_days`` and ``in_interval`` only for a refill within the 120-day horizon; ``arm``,
``contacted_on`` and ``channel`` from ``monitoring.outreach_assignment`` (the control arm's
planned contacts have an arm and no contact).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from refill_assets.contract.rules import HORIZON_DAYS, LAPSE_GRACE_DAYS
from refill_assets.outreach.export import ASSIGNMENT_COLUMNS, ASSIGNMENT_TABLE
from refill_assets.scoring.scores import COLUMNS as SCORE_COLUMNS
from refill_assets.scoring.scores import SCORES_TABLE
from refill_assets.storage.warehouse import ensure_table

OUTCOMES_TABLE = "monitoring.score_outcomes"
WATERMARKS_TABLE = "monitoring.watermarks"
OUTCOME_COLUMNS = {
    "as_of_date": "DATE",
    "rx_id": "VARCHAR",
    "pet_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "model_name": "VARCHAR",
    "model_version": "VARCHAR",
    "predicted_refill_date": "DATE",
    "refill_date_p10": "DATE",
    "refill_date_p90": "DATE",
    "lapse_probability": "DOUBLE",
    "run_out_date": "DATE",
    "actual_refill_date": "DATE",
    "lapsed": "BOOLEAN",
    "error_days": "INTEGER",
    "in_interval": "BOOLEAN",
    "arm": "VARCHAR",
    "contacted_on": "DATE",
    "channel": "VARCHAR",
    "settled": "BOOLEAN",
}

# the outcome of the score rows in `todo` (as_of_date, rx_id), as known on $through
OUTCOMES_SQL = f"""
with scored as (
    select s.* from {SCORES_TABLE} as s
    join todo using (as_of_date, rx_id)
    -- the contract: the latest run of a day (the scores keep one; run ids do not sort by time)
    qualify row_number() over (partition by as_of_date, rx_id order by run_id desc) = 1
),

last_fill as (
    select rx_id, fill_date, effective_days_supply
    from marts.fills
    where rx_id in (select rx_id from todo)
    qualify row_number() over (partition by rx_id, fill_date order by order_ts desc) = 1
),

next_fill as (
    select s.as_of_date, s.rx_id, min(f.fill_date) as actual_refill_date
    from scored as s
    join marts.fills as f on f.rx_id = s.rx_id and f.fill_date > s.as_of_date
    group by s.as_of_date, s.rx_id
),

joined as (
    select
        s.*,
        l.fill_date + cast(l.effective_days_supply as integer) as run_out_date,
        n.actual_refill_date,
        a.arm, a.contact_on, a.channel as planned_channel
    from scored as s
    left join last_fill as l on l.rx_id = s.rx_id and l.fill_date = s.last_fill_date
    left join next_fill as n on n.as_of_date = s.as_of_date and n.rx_id = s.rx_id
    left join {ASSIGNMENT_TABLE} as a on a.as_of_date = s.as_of_date and a.rx_id = s.rx_id
),

decided as (
    select
        *,
        case
            when actual_refill_date <= run_out_date + {LAPSE_GRACE_DAYS} then false
            when $through >= run_out_date + {LAPSE_GRACE_DAYS} then true
        end as lapsed,
        actual_refill_date <= as_of_date + {HORIZON_DAYS} as refilled_in_horizon
    from joined
)

select
    as_of_date, rx_id, pet_id, customer_id, model_name, model_version,
    predicted_refill_date, refill_date_p10, refill_date_p90, lapse_probability,
    run_out_date, actual_refill_date, lapsed,
    case when refilled_in_horizon
        then datediff('day', actual_refill_date, predicted_refill_date) end as error_days,
    case when refilled_in_horizon
        then actual_refill_date between refill_date_p10 and refill_date_p90 end as in_interval,
    arm,
    case when arm = 'treated' then contact_on end as contacted_on,
    case when arm = 'treated' then planned_channel end as channel,
    coalesce(refilled_in_horizon, false) and lapsed is not null
        or $through >= as_of_date + {HORIZON_DAYS} as settled
from decided
"""


@dataclass(frozen=True)
class Settled:
    through: date | None  # the delivery day the outcomes are known at
    full_rebuild: bool
    rows: int  # score rows (re)computed
    days: list[date]  # their scoring days: what the daily performance recomputes


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in (
        (SCORES_TABLE, SCORE_COLUMNS),
        (ASSIGNMENT_TABLE, ASSIGNMENT_COLUMNS),  # no export yet: no contact, no arm
        (OUTCOMES_TABLE, OUTCOME_COLUMNS),
        (WATERMARKS_TABLE, {"asset": "VARCHAR PRIMARY KEY", "through": "DATE"}),
    ):
        ensure_table(con, table, columns)


def _watermark(con: duckdb.DuckDBPyConnection) -> date | None:
    found = con.execute(
        f"SELECT through FROM {WATERMARKS_TABLE} WHERE asset = 'score_outcomes'"
    ).fetchone()
    return found[0] if found else None


# the score rows to (re)compute on a nightly increment (module doc)
_INCREMENT_SQL = f"""
select as_of_date, rx_id from {SCORES_TABLE}
where rx_id in (select rx_id from raw.rx_orders where _dt > $watermark)
    or as_of_date between $start and $end
    or as_of_date in (
        select distinct as_of_date from {SCORES_TABLE}
        except select distinct as_of_date from {OUTCOMES_TABLE})
union
select as_of_date, rx_id from {OUTCOMES_TABLE}
where (lapsed is null and $through >= run_out_date + {LAPSE_GRACE_DAYS})
    or (not settled and $through >= as_of_date + {HORIZON_DAYS})
"""


def settle(con: duckdb.DuckDBPyConnection, start: date, end: date) -> Settled:
    """Bring ``monitoring.score_outcomes`` up to the warehouse's latest delivery, for a run
    over the delivery days ``start``..``end`` (module doc: what is recomputed)."""
    _ensure_tables(con)
    (through,) = con.execute("SELECT max(_dt) FROM raw.rx_orders").fetchone()
    watermark = _watermark(con)
    full = watermark is None or start <= watermark
    todo_sql = f"select distinct as_of_date, rx_id from {SCORES_TABLE}" if full else _INCREMENT_SQL
    con.execute("BEGIN TRANSACTION")
    try:
        params = {"watermark": watermark, "start": start, "end": end, "through": through}
        params = {} if full else params
        con.execute(f"CREATE OR REPLACE TEMP TABLE todo AS {todo_sql}", params)
        if full:
            con.execute(f"DELETE FROM {OUTCOMES_TABLE}")
        else:
            con.execute(
                f"DELETE FROM {OUTCOMES_TABLE} AS o USING todo AS t"
                " WHERE o.as_of_date = t.as_of_date AND o.rx_id = t.rx_id"
            )
        con.execute(f"INSERT INTO {OUTCOMES_TABLE} BY NAME {OUTCOMES_SQL}", {"through": through})
        (rows,) = con.execute("SELECT count(*) FROM todo").fetchone()
        days = [
            d for (d,) in con.execute("SELECT DISTINCT as_of_date FROM todo ORDER BY 1").fetchall()
        ]
        con.execute(
            f"INSERT OR REPLACE INTO {WATERMARKS_TABLE} VALUES ('score_outcomes', ?)", [through]
        )
        con.execute("DROP TABLE todo")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return Settled(through, full, rows, days)
