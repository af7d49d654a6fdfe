"""customers and pets rows: an initial export, then a row per change.

Everyone who is a customer on day 0 is delivered on day 0 (the initial
export); later customers and pets on the day they are created. Changes send
the whole row again with a newer ``updated_at``: a marketing opt-out (after
an ``unsubscribe`` event), a move (new address), a weight taken at a visit,
a pet reported deceased or transferred. Deaths and transfers are reported
late, and not always.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from refill_simulator import names
from refill_simulator.formats import (
    bool_text,
    event_day,
    ident,
    local_text,
    offset_minutes,
    text_of,
    utc_seconds,
    utc_text,
)
from refill_simulator.population import CAT, DOG
from refill_simulator.state import World
from refill_simulator.timeline import SECONDS_PER_DAY

HOUR = 3600
INITIAL_EXPORT_HOURS = (5, 8)  # UTC, day 0
CREATED_HOURS = (0.5, 1.5)  # local: the account exists before the first order
MOVE_RATE = 0.04  # customers who move during the world
WEIGHED_SHARE = 0.35  # pets weighed again at a visit during the world
DEATH_REPORTED, DEATH_REPORT_DAYS = 0.7, 30
TRANSFER_REPORTED, TRANSFER_REPORT_DAYS = 0.5, 14
LB_PER_KG = 2.20462


def _uniform_seconds(rng, n: int, hours: tuple[float, float]) -> np.ndarray:
    return (HOUR * rng.uniform(hours[0], hours[1], n)).astype(np.int64)


def _first_version_ts(w: World, created_day, created_ts, rng) -> np.ndarray:
    """Entities created by day 0 come in the initial export, the others when created."""
    initial = (w.tl.epoch_day * SECONDS_PER_DAY) + _uniform_seconds(
        rng, len(created_day), INITIAL_EXPORT_HOURS
    )
    return np.where(created_day <= 0, initial, created_ts)


def customer_rows(w: World, opt_outs: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """``opt_outs``: (customer, ts) of each customer's unsubscribe, if any."""
    c = w.customers
    n = len(c)
    offset = offset_minutes(w.offsets, w.tl, c.zone, c.created_day)
    created = utc_seconds(w.tl, c.created_day, _uniform_seconds(rng, n, CREATED_HOURS), offset)
    base = pl.DataFrame(
        {
            "id": np.arange(n),
            "created": created,
            "created_offset": offset,
            "zip5": c.zip5,
            "street_number": c.street_number,
            "street": c.street,
            "opt_in": c.opt_in,
            "ts": _first_version_ts(w, c.created_day, created, rng),
        }
    )
    movers = np.flatnonzero(rng.random(n) < MOVE_RATE)
    move_ts = (w.tl.epoch_day + rng.integers(1, max(w.tl.n_days, 2), len(movers))) * (
        SECONDS_PER_DAY
    ) + _uniform_seconds(rng, len(movers), (12, 23))
    zip_lo = np.array([s[1] for s in names.STATES])[c.state[movers]]
    zip_hi = np.array([s[2] for s in names.STATES])[c.state[movers]]
    moves = base[movers].with_columns(
        ts=np.maximum(move_ts, base["ts"].to_numpy()[movers] + HOUR),
        zip5=rng.integers(zip_lo, zip_hi + 1) * 100 + rng.integers(1, 100, len(movers)),
        street_number=rng.integers(1, 9999, len(movers)),
        street=rng.integers(0, len(names.STREETS), len(movers)),
        opt_in=pl.lit(None, pl.Boolean),
    )
    unsubscribes = opt_outs.select(id="customer", ts=pl.col("ts") + 600, opt_in=pl.lit(False)).join(
        base.select("id", "created", "created_offset"), on="id"
    )
    # each version carries what changed; the rest is the previous version's
    rows = pl.concat([base, moves, unsubscribes], how="diagonal_relaxed").sort(
        "id", "ts", maintain_order=True
    )
    changing = ["zip5", "street_number", "street", "opt_in"]
    rows = rows.with_columns(pl.col(changing).forward_fill().over("id"))
    return _customer_text(rows, w)


def _customer_text(rows: pl.DataFrame, w: World) -> pl.DataFrame:
    c = w.customers
    idx = pl.col("id")
    first = text_of(np.array(names.FIRST_NAMES), pl.lit(pl.Series(c.first)).gather(idx))
    last = text_of(np.array(names.LAST_NAMES), pl.lit(pl.Series(c.last)).gather(idx))
    number = pl.lit(pl.Series(c.email_number)).gather(idx).cast(pl.String)
    pattern = pl.lit(pl.Series(c.email_pattern)).gather(idx)
    local_part = (
        pl.when(pattern == 0)
        .then(first + pl.lit(".") + last + number)
        .when(pattern == 1)
        .then(first + last + number)
        .otherwise(first.str.slice(0, 1) + last + number)
    )
    domain = text_of(np.array(names.EMAIL_DOMAINS), pl.lit(pl.Series(c.email_domain)).gather(idx))
    phone = pl.lit(pl.Series(c.phone)).gather(idx).cast(pl.String)
    street = text_of(np.array(names.STREETS), pl.col("street"))
    suffix = text_of(
        np.array(names.STREET_SUFFIXES), pl.lit(pl.Series(c.street_suffix)).gather(idx)
    )
    states = np.array([s[0] for s in names.STATES])
    return rows.select(
        customer_id=ident("C", idx, 7),
        first_name=first.str.to_titlecase(),
        last_name=last.str.to_titlecase(),
        email=local_part + pl.lit("@") + domain,
        phone=pl.lit("(555) ") + phone.str.slice(0, 3) + pl.lit("-") + phone.str.slice(3, 4),
        address_line1=pl.col("street_number").cast(pl.String) + " " + street + " " + suffix,
        zip5=pl.col("zip5").cast(pl.String).str.zfill(5),
        state=text_of(states, pl.lit(pl.Series(c.state)).gather(idx)),
        marketing_opt_in=bool_text(pl.col("opt_in")),
        created_at=local_text(pl.col("created"), pl.col("created_offset"), w.tl),
        updated_at=utc_text(pl.col("ts"), w.tl),
        _ts=pl.col("ts"),
        _day=event_day(pl.col("ts"), w.tl),
    ).filter(pl.col("_day").is_between(0, w.last_day))


def _reported(event_day_: np.ndarray, share: float, max_delay: int, rng) -> np.ndarray:
    """Day a pet's death/transfer reaches the PMS, or +inf if it never does."""
    n = len(event_day_)
    told = rng.random(n) < share
    return np.where(told, np.ceil(event_day_) + rng.integers(0, max_delay + 1, n), np.inf)


def pet_rows(w: World, rng: np.random.Generator) -> pl.DataFrame:
    p = w.pets
    n = len(p)
    death = _reported(p.death_day, DEATH_REPORTED, DEATH_REPORT_DAYS, rng)
    transfer = _reported(p.transfer_day, TRANSFER_REPORTED, TRANSFER_REPORT_DAYS, rng)
    transfer = np.where(p.transfer_day < p.death_day, transfer, np.inf)
    death = np.where(p.death_day <= p.transfer_day, death, np.inf)
    status_day = np.minimum(death, transfer)
    status = np.where(death <= transfer, 1, 2)  # deceased, transferred

    offset = offset_minutes(w.offsets, w.tl, w.customers.zone[p.customer], p.arrival_day)
    created = utc_seconds(w.tl, p.arrival_day, _uniform_seconds(rng, n, CREATED_HOURS), offset)
    base = pl.DataFrame(
        {
            "id": np.arange(n),
            "ts": _first_version_ts(w, p.arrival_day, created, rng),
            "weight": p.weight_lb,
            "status": np.where(status_day <= 0, status, 0),
        }
    )
    weigh_day = rng.integers(1, max(w.tl.n_days, 2), n)
    weighed = (rng.random(n) < WEIGHED_SHARE) & (weigh_day > p.arrival_day)
    weighed = np.flatnonzero(weighed & (weigh_day < status_day))
    reweigh = base[weighed].with_columns(
        ts=(w.tl.epoch_day + weigh_day[weighed]) * SECONDS_PER_DAY
        + _uniform_seconds(rng, len(weighed), (14, 23)),
        weight=np.round(p.weight_lb[weighed] * rng.normal(1.0, 0.05, len(weighed)), 1),
    )
    changed = np.flatnonzero(np.isfinite(status_day) & (status_day > 0))
    changed = changed[status_day[changed] <= w.last_day]
    news = base[changed].with_columns(
        ts=(w.tl.epoch_day + status_day[changed].astype(np.int64)) * SECONDS_PER_DAY
        + _uniform_seconds(rng, len(changed), (14, 23)),
        status=status[changed],
    )
    return _pet_text(pl.concat([base, reweigh, news]), w)


def _pet_text(rows: pl.DataFrame, w: World) -> pl.DataFrame:
    p = w.pets
    idx = pl.col("id")
    species = pl.lit(pl.Series(p.species)).gather(idx)
    breed_index = pl.lit(pl.Series(p.breed)).gather(idx)
    exotic_species = np.array([e[0] for e in names.EXOTICS])
    breeds = [np.array([b[0] for b in table]) for table in (names.DOG_BREEDS, names.CAT_BREEDS)]
    exotic_breeds = np.array([e[1] for e in names.EXOTICS])
    kg = pl.lit(pl.Series(p.kg)).gather(idx)
    return rows.select(
        pet_id=ident("P", idx, 7),
        customer_id=ident("C", pl.lit(pl.Series(p.customer)).gather(idx), 7),
        name=text_of(np.array(names.PET_NAMES), pl.lit(pl.Series(p.name)).gather(idx)),
        species=pl.when(species == DOG)
        .then(pl.lit("dog"))
        .when(species == CAT)
        .then(pl.lit("cat"))
        .otherwise(text_of(exotic_species, breed_index.clip(0, len(exotic_species) - 1))),
        breed=pl.when(species == DOG)
        .then(text_of(breeds[0], breed_index.clip(0, len(breeds[0]) - 1)))
        .when(species == CAT)
        .then(text_of(breeds[1], breed_index.clip(0, len(breeds[1]) - 1)))
        .otherwise(text_of(exotic_breeds, breed_index.clip(0, len(exotic_breeds) - 1))),
        birth_date=(pl.lit(pl.Series(p.birth_day)).gather(idx) + w.tl.epoch_day)
        .cast(pl.Int32)
        .cast(pl.Date)
        .cast(pl.String),
        weight=pl.when(kg)
        .then((pl.col("weight") / LB_PER_KG).round(1))
        .otherwise(pl.col("weight"))
        .cast(pl.String),
        weight_unit=pl.when(kg).then(pl.lit("kg")).otherwise(pl.lit("lb")),
        status=pl.col("status").replace_strict(
            {0: "active", 1: "deceased", 2: "transferred"}, return_dtype=pl.String
        ),
        updated_at=utc_text(pl.col("ts"), w.tl),
        _ts=pl.col("ts"),
        _day=event_day(pl.col("ts"), w.tl),
    ).filter(pl.col("_day").is_between(0, w.last_day))
