"""Customers and pets: who they are, and the latent traits that drive refills.

Latent traits (never delivered, kept for the truth): each customer has an
engagement level and a preferred order channel; each pet an adherence
profile (drawn conditional on its owner's engagement, so engaged owners are
more often punctual), an auto-ship flag and a churn clock (death, transfer,
owner leaving: exponential lifetimes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from refill_simulator import names
from refill_simulator.behaviour import PROFILES
from refill_simulator.catalog import WAREHOUSE_OF_ZONE
from refill_simulator.process import Process
from refill_simulator.timeline import BURN_IN_DAYS, HISTORY_DAYS

PETS_PER_CUSTOMER = ((1, 2, 3), (0.62, 0.26, 0.12))
SPECIES_SHARE = (0.60, 0.37, 0.03)  # dog, cat, exotic
DOG, CAT, EXOTIC = 0, 1, 2
ENGAGEMENT_SHARE = (0.35, 0.40, 0.25)
# the profile mix and auto-ship share by engagement, and the transfer and
# leaving rates, are the Process's (profile_given_engagement, ...)
MARKETING_OPT_IN = 0.78
CHANNELS = ("mail", "clinic", "ecommerce")
CHANNEL_SHARE = (0.42, 0.15, 0.43)
SMS_SHARE = 0.25  # customers reached by sms rather than e-mail
BAD_EMAIL_RATE = 0.02  # their e-mails bounce

PRE_EXISTING_PETS = 0.7  # already customers when the burn-in starts
# churn clocks, per year (transfers and owners leaving: Process)
DEATH_RATE_BASE, DEATH_RATE_PER_YEAR_OVER_7 = 0.04, 0.015
EXOTIC_DEATH_RATE = 0.15
KG_SHARE = 0.25  # pets whose weight the clinic records in kg


@dataclass(frozen=True)
class Customers:
    state: np.ndarray  # index into names.STATES
    zone: np.ndarray  # index into names.TIME_ZONES
    warehouse: np.ndarray
    zip5: np.ndarray
    first: np.ndarray
    last: np.ndarray
    email_pattern: np.ndarray
    email_number: np.ndarray
    email_domain: np.ndarray
    phone: np.ndarray  # 7 digits after the 555 area code
    street_number: np.ndarray
    street: np.ndarray
    street_suffix: np.ndarray
    opt_in: np.ndarray
    engagement: np.ndarray
    channel: np.ndarray  # index into CHANNELS
    sms: np.ndarray
    bad_email: np.ndarray
    created_day: np.ndarray
    leave_day: np.ndarray

    def __len__(self) -> int:
        return len(self.state)


@dataclass(frozen=True)
class Pets:
    customer: np.ndarray
    species: np.ndarray  # DOG / CAT / EXOTIC
    breed: np.ndarray  # index into the species' breed list
    name: np.ndarray
    birth_day: np.ndarray
    weight_lb: np.ndarray
    kg: np.ndarray  # weight recorded in kg
    profile: np.ndarray
    autoship: np.ndarray
    clinic: np.ndarray
    arrival_day: np.ndarray
    death_day: np.ndarray
    transfer_day: np.ndarray
    owner_leave_day: np.ndarray
    churn_hazard: np.ndarray  # per day, all ways a pet's prescriptions end at once

    def __len__(self) -> int:
        return len(self.customer)

    @property
    def churn_day(self) -> np.ndarray:
        """The day the pet's prescriptions all end: it dies, moves, or its owner leaves."""
        return np.minimum(np.minimum(self.death_day, self.transfer_day), self.owner_leave_day)


def _choice(rng, n, shares) -> np.ndarray:
    return rng.choice(len(shares), n, p=np.asarray(shares) / np.sum(shares))


def _owners(n_pets: int, rng) -> np.ndarray:
    """Customer index of each pet, 1-3 pets per customer."""
    counts = rng.choice(PETS_PER_CUSTOMER[0], n_pets, p=PETS_PER_CUSTOMER[1])
    n_customers = int(np.searchsorted(np.cumsum(counts), n_pets)) + 1
    return np.repeat(np.arange(n_customers), counts[:n_customers])[:n_pets]


def build_pets(n_pets: int, n_days: int, n_clinics: int, p: Process, rng) -> Pets:
    owner = _owners(n_pets, rng)
    species = _choice(rng, n_pets, SPECIES_SHARE)
    n_breeds = np.array([len(names.DOG_BREEDS), len(names.CAT_BREEDS), len(names.EXOTICS)])
    breed = (rng.random(n_pets) * n_breeds[species]).astype(np.int64)
    lo = np.select(
        [species == DOG, species == CAT],
        [_table(names.DOG_BREEDS, 1, breed), _table(names.CAT_BREEDS, 1, breed)],
        _table(names.EXOTICS, 2, breed),
    )
    hi = np.select(
        [species == DOG, species == CAT],
        [_table(names.DOG_BREEDS, 2, breed), _table(names.CAT_BREEDS, 2, breed)],
        _table(names.EXOTICS, 3, breed),
    )
    weight = np.round(rng.uniform(lo, hi), 1)
    exotic = species == EXOTIC
    age = np.where(exotic, 0.5 + rng.gamma(2.0, 1.5, n_pets), 1 + rng.gamma(2.2, 2.6, n_pets))
    age = np.minimum(age, np.where(exotic, 12, 19))

    pre = rng.random(n_pets) < PRE_EXISTING_PETS
    arrival = np.where(
        pre,
        -BURN_IN_DAYS - rng.integers(0, HISTORY_DAYS - 60, n_pets),
        rng.integers(-BURN_IN_DAYS, max(n_days, 1), n_pets),
    )
    birth = np.minimum(-np.rint(age * 365.25).astype(np.int64), arrival - 60)

    death_rate = DEATH_RATE_BASE + DEATH_RATE_PER_YEAR_OVER_7 * np.maximum(age - 7, 0)
    death_rate = np.where(exotic, EXOTIC_DEATH_RATE, death_rate) / 365.0
    clock_start = np.maximum(arrival, -BURN_IN_DAYS)
    death = clock_start + rng.exponential(1.0 / death_rate)
    transfer = clock_start + rng.exponential(365.0 / p.transfer_rate, n_pets)
    hazard = death_rate + (p.transfer_rate + p.customer_leave_rate) / 365.0

    popularity = 1.0 / np.arange(1, n_clinics + 1) ** 0.7
    clinic = rng.permutation(n_clinics)[_choice(rng, n_pets, popularity)]
    return Pets(
        customer=owner,
        species=species,
        breed=breed,
        name=rng.integers(0, len(names.PET_NAMES), n_pets),
        birth_day=birth,
        weight_lb=weight,
        kg=rng.random(n_pets) < KG_SHARE,
        profile=np.zeros(n_pets, dtype=np.int8),  # set with the owners' engagement
        autoship=np.zeros(n_pets, dtype=bool),
        clinic=clinic,
        arrival_day=arrival,
        death_day=death,
        transfer_day=transfer,
        owner_leave_day=np.full(n_pets, np.inf),  # set with the owners
        churn_hazard=hazard,
    )


def _table(rows, column: int, index: np.ndarray) -> np.ndarray:
    return np.array([r[column] for r in rows], dtype=float)[np.minimum(index, len(rows) - 1)]


def build_customers(pets: Pets, p: Process, rng) -> tuple[Customers, Pets]:
    """Customers of ``pets``; returns the pets with their latent profile set."""
    n = int(pets.customer.max()) + 1
    state = _choice(rng, n, [s[4] for s in names.STATES])
    zip_lo = np.array([s[1] for s in names.STATES])[state]
    zip_hi = np.array([s[2] for s in names.STATES])[state]
    zip5 = rng.integers(zip_lo, zip_hi + 1) * 100 + rng.integers(1, 100, n)
    zones = list(names.TIME_ZONES)
    zone = np.array([zones.index(s[3]) for s in names.STATES])[state]
    warehouse = np.array([WAREHOUSE_OF_ZONE[z] for z in zones])[zone]
    engagement = _choice(rng, n, ENGAGEMENT_SHARE).astype(np.int8)
    channel = _choice(rng, n, CHANNEL_SHARE)

    first_arrival = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_arrival, pets.customer, pets.arrival_day)
    created = first_arrival - rng.integers(0, 30, n) * (first_arrival < -BURN_IN_DAYS)
    leave = np.maximum(created, -BURN_IN_DAYS) + rng.exponential(365.0 / p.customer_leave_rate, n)

    customers = Customers(
        state=state,
        zone=zone,
        warehouse=warehouse,
        zip5=zip5,
        first=rng.integers(0, len(names.FIRST_NAMES), n),
        last=rng.integers(0, len(names.LAST_NAMES), n),
        email_pattern=rng.integers(0, 3, n),
        email_number=rng.integers(1, 1000, n),
        email_domain=rng.integers(0, len(names.EMAIL_DOMAINS), n),
        phone=rng.integers(2_000_000, 10_000_000, n),
        street_number=rng.integers(1, 9999, n),
        street=rng.integers(0, len(names.STREETS), n),
        street_suffix=rng.integers(0, len(names.STREET_SUFFIXES), n),
        opt_in=rng.random(n) < MARKETING_OPT_IN,
        engagement=engagement,
        channel=channel,
        sms=rng.random(n) < SMS_SHARE,
        bad_email=rng.random(n) < BAD_EMAIL_RATE,
        created_day=created,
        leave_day=leave,
    )
    return customers, _with_profiles(pets, customers, p, rng)


def _with_profiles(pets: Pets, customers: Customers, p: Process, rng) -> Pets:
    owner_engagement = customers.engagement[pets.customer]
    cdf = np.cumsum(np.array(p.profile_given_engagement), axis=1)[owner_engagement]
    profile = (rng.random(len(pets))[:, None] > cdf).sum(axis=1).clip(0, len(PROFILES) - 1)
    ships = CHANNELS[0], CHANNELS[2]
    can_ship = np.isin(np.array(CHANNELS)[customers.channel[pets.customer]], ships)
    autoship = can_ship & (pets.species != EXOTIC)
    autoship &= rng.random(len(pets)) < np.array(p.autoship_given_engagement)[owner_engagement]
    return replace(
        pets,
        profile=profile.astype(np.int8),
        autoship=autoship,
        owner_leave_day=customers.leave_day[pets.customer],
    )
