"""Prescriptions: which pet gets which product, how much, how many refills.

Most pets are already customers when the burn-in starts; most of their
prescriptions are then *in flight* (their first simulated fill is some fill
in mid-course, with some refills already used), so the delivered world
starts in a steady state instead of with every prescription new on day 0.
New prescriptions start throughout; new flea/tick and heartworm therapy
starts mostly in spring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refill_simulator.catalog import (
    ACUTE_PACK_DAYS,
    DAILY_PACK_DAYS,
    MONTHLY_PACK_DAYS,
    SIG_STYLES,
    CatalogArrays,
    eligible_weights,
)
from refill_simulator.population import CAT, DOG, EXOTIC, Customers, Pets
from refill_simulator.timeline import BURN_IN_DAYS, Timeline

RX_PER_PET = ((1, 2, 3, 4), (0.5, 0.3, 0.15, 0.05))
IN_FLIGHT = 0.75  # of a pre-existing pet's prescriptions, those already running
OTHER_CLINIC = 0.1  # prescriptions written by a clinic other than the pet's usual one
SPRING_MONTHS = (3, 4, 5, 6)
SPRING_START_SHIFT = 0.6  # new seasonal starts outside spring moved to next spring
# refills written on a prescription, by days' supply of the pack
REFILLS_BY_PACK = {30: (5, 11), 60: (5,), 90: (1, 3), 180: (1,), 360: (0,)}


@dataclass(frozen=True)
class Prescriptions:
    pet: np.ndarray
    customer: np.ndarray
    product: np.ndarray
    dose: np.ndarray
    style: np.ndarray
    pack_days: np.ndarray
    refills_authorized: np.ndarray
    clinic: np.ndarray
    channel: np.ndarray  # index into population.CHANNELS
    autoship: np.ndarray
    first_day: np.ndarray  # day of the first simulated fill
    first_refills_remaining: np.ndarray  # refills left after that fill

    def __len__(self) -> int:
        return len(self.pet)


def _products(species: np.ndarray, rng) -> np.ndarray:
    product = np.empty(len(species), dtype=np.int64)
    for code, value in (("D", DOG), ("C", CAT), ("X", EXOTIC)):
        mask = species == value
        weights = eligible_weights(code)
        product[mask] = rng.choice(len(weights), int(mask.sum()), p=weights / weights.sum())
    return product


def _pack_days(cat: CatalogArrays, product: np.ndarray, rng) -> np.ndarray:
    n = len(product)
    daily = rng.choice(DAILY_PACK_DAYS[0], n, p=DAILY_PACK_DAYS[1])
    monthly = rng.choice(MONTHLY_PACK_DAYS[0], n, p=MONTHLY_PACK_DAYS[1])
    acute = rng.choice(ACUTE_PACK_DAYS[0], n, p=ACUTE_PACK_DAYS[1])
    return np.where(cat.acute[product], acute, np.where(cat.monthly[product], monthly, daily))


def _refills(pack_days: np.ndarray, acute: np.ndarray, rng) -> np.ndarray:
    refills = np.zeros(len(pack_days), dtype=np.int64)
    for days, options in REFILLS_BY_PACK.items():
        mask = pack_days == days
        refills[mask] = rng.choice(options, int(mask.sum()))
    return np.where(acute, 0, refills)


def _start_days(pets: Pets, pet: np.ndarray, first_of_pet: np.ndarray, tl: Timeline, rng):
    """First simulated fill day, and whether it is a mid-course (in-flight) fill."""
    n = len(pet)
    arrival = pets.arrival_day[pet]
    pre = arrival < -BURN_IN_DAYS
    in_flight = pre & (rng.random(n) < IN_FLIGHT)
    lo = np.maximum(arrival, -BURN_IN_DAYS)
    new_start = lo + (rng.random(n) * np.maximum(tl.n_days - lo, 1)).astype(np.int64)
    # a newly arrived pet comes with a prescription
    new_start = np.where(~pre & first_of_pet, arrival, new_start)
    return in_flight, new_start


def build_prescriptions(
    pets: Pets, customers: Customers, cat: CatalogArrays, n_clinics: int, tl: Timeline, rng
) -> Prescriptions:
    per_pet = rng.choice(RX_PER_PET[0], len(pets), p=RX_PER_PET[1])
    per_pet = np.where(pets.species == EXOTIC, 1, per_pet)
    pet = np.repeat(np.arange(len(pets)), per_pet)
    first_of_pet = np.r_[True, pet[1:] != pet[:-1]]
    n = len(pet)

    product = _products(pets.species[pet], rng)
    acute = cat.acute[product]
    dose = (rng.random(n) * cat.n_doses[product]).astype(np.int64)
    pack_days = _pack_days(cat, product, rng)
    refills = _refills(pack_days, acute, rng)

    in_flight, start = _start_days(pets, pet, first_of_pet, tl, rng)
    in_flight &= ~acute
    flight_day = -BURN_IN_DAYS + (rng.random(n) * pack_days).astype(np.int64)
    first_rr = np.where(in_flight, (rng.random(n) * (refills + 1)).astype(np.int64), refills)
    off_season = cat.seasonal[product] & ~np.isin(tl.at(tl.month, start), SPRING_MONTHS)
    shift = off_season & ~in_flight & (rng.random(n) < SPRING_START_SHIFT)
    spring = tl.at(tl.next_spring, start) + rng.integers(0, 90, n)
    start = np.where(shift, spring, start)

    customer = pets.customer[pet]
    channel = customers.channel[customer]
    clinic = np.where(rng.random(n) < OTHER_CLINIC, rng.integers(0, n_clinics, n), pets.clinic[pet])
    return Prescriptions(
        pet=pet,
        customer=customer,
        product=product,
        dose=dose,
        style=rng.integers(0, SIG_STYLES, n),
        pack_days=pack_days,
        refills_authorized=refills,
        clinic=clinic,
        channel=channel,
        autoship=pets.autoship[pet] & ~acute,
        first_day=np.where(in_flight, flight_day, start),
        first_refills_remaining=first_rr,
    )
