"""A simulated veterinary online pharmacy: its source extracts and its ground truth.

Entry point::

    from refill_simulator import simulate, Shift, SimulationSummary
    summary = simulate(out_dir, pets=2000, start=date(2025, 1, 1),
                       end=date(2025, 4, 30), seed=7, quirks=True, family=False,
                       shift=None)

writes ``out_dir/landing/`` (the seven extracts of the landing-zone contract,
``<extract>/dt=YYYY-MM-DD/<file>``) and, beside it, ``out_dir/truth/``
(files the platform never reads). Same arguments, byte-identical
files. ``quirks=False`` gives a clean world: the same process, delivered on
time, one file per extract and day, canonical spellings, no bad rows. Plain
Python (numpy + polars), nothing of Dagster. Sizes: tests ~2,000 pets over a
few months (about a second); demo ``DEMO_WORLD_PETS`` over 18 months (about
140k fills, ~10 s); ``LARGE_WORLD_PETS`` over 18 months gives more than a
million fills (see ``benchmarks/bench_simulate.py``).

The latent process
==================

The numbers below are the *standard* world's; ``family=True`` draws many of
them per seed (see "A family of worlds").

Time runs in whole days from ``start``. The process starts ``BURN_IN_DAYS``
(240) before it, so the first delivery sees prescriptions in mid-course;
only what happens from ``start`` to ``end`` is delivered.

Population (``population``)
    Customers own 1-3 pets (62/26/12 %), live in one of 26 US states (zip5
    drawn from the state's real zip3 range, time zone from the state; 22 %
    opted out of marketing). Pets are dogs (60 %), cats (37 %) or exotics
    (3 %: rabbit, ferret, guinea pig, bird, reptile; they get prescriptions
    and appear everywhere, but matter for no maintenance model), with breed,
    birth date and a weight recorded in lb or, for a quarter of pets, kg.
    Owner PII (names, ``first.last123@example.com``, ``(555) 201-3344``,
    ``742 Oak St``) comes from small embedded word lists (``names``).

Latent traits (``truth/pets.parquet``)
    Each customer has an *engagement level* (low/medium/high 35/40/25 %).
    Each pet an *adherence profile* drawn conditional on it (engaged owners
    are more often punctual): punctual, early, late (habitually), erratic,
    lapsing; and an *auto-ship* flag (8/18/35 % by engagement; never for
    clinic pick-up customers or exotics). Churn clocks are exponential:
    death (4 %/year, +1.5 %/year per year of age over 7; exotics 15 %),
    transfer to another pharmacy (3 %/year), the owner leaving (5 %/year).

Catalog (``catalog``)
    57 products, one 11-digit NDC each (half start with one or two zeros),
    in every contract drug class. Daily products (tablets, capsules every
    other day, mL solutions) come in packs for 30/60/90 days; monthly
    chewables and pipettes (1/30 unit a day) in 1/3/6/12 doses; acute
    antibiotics and gastro drugs in 7/10/14-day courses with no refills. Sig
    grammar, parsed by ingestion (q in 1, 1/2, 0.5, 1.5, 2, 1/4)::

        {q} tab PO {SID|BID|TID|QID|q12h|q8h|q24h}
        Give {q} tablet(s) by mouth {once|twice|three times} daily
        Give {q} capsule(s) by mouth every other day
        Apply 1 pipette monthly
        Give 1 chewable monthly
        {q} mL PO BID

    "tablet"/"capsule" are singular for q <= 1, plural above. days' supply
    = floor(qty / units per day), computed exactly (fractions, not floats).
    Clinics (30-450 by world size) each have a median reauthorization
    response time (lognormal around 1.8 days) and a denial rate (mostly
    ~6 %; one clinic in ten is strict, 20-35 %).

Prescriptions (``prescriptions``)
    1-4 per dog or cat, 1 per exotic; product by species and popularity, a
    dose option and sig style, a pack size, ``refills_authorized`` by pack
    (30-day: 5 or 11, 90-day: 1 or 3, monthly packs: 11/3/1/0), the pet's
    usual clinic (10 % another), the owner's usual channel (mail 42 %,
    e-commerce 43 %, clinic pick-up 15 %). 75 % of the prescriptions of
    pets that existed before the burn-in are *in flight* (their first
    simulated fill is a mid-course one, some refills already used); the
    rest start at a random day, new seasonal ones mostly in spring.

The fill step (``behaviour.draw_next``; the loop in ``fills``)
    Fill k+1 depends on fill k, so the loop runs over k (a few dozen steps)
    on arrays of all still-active prescriptions. At each fill:

    1. Dispense: 4 % are ``partial`` (30-70 % of the quantity, so a shorter
       days' supply and an earlier next fill); 5 % of non-auto-ship orders
       go through another channel than usual. A mail/e-commerce order of
       a backordered NDC waits for the restock (``ship_delay``).
    2. Ratio r = days to the next order / days' supply, lognormal by
       profile (medians 0.97/0.84/1.15/1.00/1.12, sigmas 0.10/0.07/0.10/
       0.25/0.15), pulled towards 1 for engaged owners; auto-ship: 0.98,
       sigma 0.02. An owner forgets (2-16 % by profile, more if
       disengaged, more in winter for seasonal products): r grows by
       0.25 + Exp(0.6). Never below ``EARLIEST_REFILL`` = 0.75.
    3. A dose change (4 % per fill, products with several dose options)
       moves the sig one option up or down: the supply on hand lasts
       old/new units-per-day times as long, and the next order carries the
       new sig and quantity. (Only here can a refill come before 75 %.)
    4. Next order = fill day + ship_delay + r x supply.
    5. Seasonality: a flea/tick or heartworm fill in Oct-Jan is followed by
       a winter pause with probability 0.22: 60 % resume in spring (March 1
       + up to 45 days), the rest stop. In Nov-Feb their ratio runs 5 %
       later.
    6. Holidays (Jul 3-5, Thanksgiving Thu-Sun, Dec 20-Jan 2): an order
       falling inside is put off to the end of the window (+0-3 days) with
       probability 0.5. Carriers take 2 days longer.
    7. 2.5 % of orders are ``canceled`` (quantity 0) and placed again
       1 + Geometric(0.35) days later; 15 % of those owners never reorder.
    8. The owner stops (1.2-10 % per fill by profile, less on auto-ship and
       for engaged owners), or the pet/owner churns before the next order.
       Acute courses end after their one fill.
    9. If no refills remain, the order triggers a reauthorization request
       to the clinic: the answer comes after the clinic's lognormal delay;
       no answer within 10 days = ``expired``; else ``denied`` at the
       clinic's rate; both end the prescription. An approval (refills
       granted by pack size, for a year) releases the fill the day after
       the answer or the next, and that fill carries ``refills_remaining``
       = ``refills_granted``.

Order lifecycle (``orders``)
    An order is written ``pending`` when placed (owners 07-21 h local, the
    auto-ship batch 02-04 h) and again ``filled``/``partial``/``canceled``
    4-36 hours later. ``order_ts`` carries the store's offset (the
    customer's time zone, with US daylight saving time); its local date is
    the fill date; ``updated_at`` is UTC. Mail and e-commerce fills ship
    (``shipments``: created, backordered, shipped on business days,
    delivered 1-5 days later, 0.6 % lost, 0.4 % returned); clinic pick-ups
    do not.

Other extracts
    ``vet_reauth``: a ``pending`` request row and an answer row per
    request. ``inventory``: a daily snapshot per warehouse and NDC; backorder
    episodes (1 per NDC per 250 days, 4 + Gamma(2, 8) days) show as
    ``backordered`` with a drifting ``expected_restock_date``.
    ``engagement``: refill reminders 5 days before each maintenance run-out
    (unless already refilled) and a monthly e-mail newsletter to opted-in
    customers; open/click rates by engagement level (8/30/60 % open), so
    the events carry the owner's punctuality; an ``unsubscribe`` stops all
    messages and re-sends the customer with ``marketing_opt_in`` false.
    ``customers``/``pets``: an initial export on day 0, new ones when they
    join, a row per change (moves, weights at visits, deaths reported 70 %
    of the time within 30 days, transfers 50 % within 14 days).

Bad data
========

Kinds are module constants, rates too but for those the family varies
(``Process``): row-level quirks in ``quirks``
(spelling variants, lost leading zeros, nulls to derive, newer re-sends,
malformed rows of every kind, one orphan order), delivery and file quirks
in ``delivery`` (late rows, identical re-sends, outages, several and
duplicated files, shuffled CSV columns, schema drift, a file missing a
required column, a truncated Parquet file). Malformed rows are extra,
corrupted copies: quarantining them loses nothing of the world.

A family of worlds
==================

``simulate(..., family=True)`` (``refill simulate --family``) draws the
latent process from documented ranges, one member per seed, so that no one
world's habits can be learnt as if they were pharmacy facts. The numbers
varied are the fields of ``process.Process`` (their defaults are the
standard world's, and that is their only home; the modules read them from
``World.process``): the adherence profile mix given engagement, the
auto-ship share, churn by transfer and leaving, the ratio medians and
spreads by profile, forgetting and stopping, auto-ship's own ratio, how
strongly engagement shows in punctuality, forgetting and stopping (its
direction is kept), the winter and pause months, pause and resume rates and
the spring resume spread, holiday delays, partial fills, cancellations, dose
changes, reauthorization delays, expiry and clinics' response and denial
rates, backorder frequency and length, carrier transit, e-mail open and
click rates and the reminder lead, and the rates of the data quirks (late
and re-sent rows, several and duplicated files, shuffled columns, missing
days' supply, malformed rows, lost zeros, channel spellings). ``RANGES`` in
``process`` gives each field's low and high and what it means, and
``draw_process(seed)`` draws from them with its own random stream, so the
rest of a world's randomness is the same as the standard world's of that
seed. The catalog, the calendar, the sig grammar, the early-refill rule and
the kinds of quirks do not vary. The ground truth draws with the world's own
process, so the oracle stays the true law of each world.

A shift from a date on
======================

``simulate(..., shift=Shift(start))`` (``refill simulate --shift-from DATE``)
changes the process from ``start`` on, for monitoring to notice and a
retrain to follow: carriers take ``transit_extra_days`` (3) more days for
every shipment shipped on or after ``start``, and at every fill on or after
``start`` a refill ratio above 1 has its excess over 1 multiplied by
``lateness_factor`` (1.5). Every fill before ``start``, and all that is
decided at it, is the unshifted world's; ``shift`` (the module) says exactly
what is and is not the same. It combines with ``family``, and the truth
draws with it.

Ground truth (``truth``)
========================

``next_fill.parquet``: one row per ``filled``/``partial`` order placed in
the world: ``order_id, rx_id, pet_id, fill_date, days_supply``, the true
distribution of the days to the next fill of the same prescription as the
process knew it at that fill, over the refill branch (``true_mean_days``,
``true_p10_days``, ``true_p50_days``, ``true_p90_days``; null when the
prescription cannot continue), ``true_lapse_probability`` (no fill by
fill_date + days_supply + 30 days, as the contract defines a lapse), and
what really happened: ``next_fill_date`` (null if none by ``end``) and
``outcome`` (refilled, censored, or why it stopped). The distribution is a
Monte Carlo estimate: ``draw_next`` (the very function that built the
world) drawn 64 times from the state at the fill, churn drawn from the
hazard rather than the realised date (exponential lifetimes have no
memory, so this is the same law). The 64 draws themselves are the last
column, ``draw_gap_days`` (a list of 64 Int16, sorted ascending): the days
from the fill to the next fill in each draw, or -1 (``truth.STOP_DRAW``)
where the draw ends the prescription (owner stopped, pet died or
transferred, owner left, reauthorization denied or expired, acute course
complete). The summaries are computed from exactly these draws; the oracle
(``refill_assets.models.oracle``) conditions them on the wait observed on a
later day. The orphan order is not in the truth.
``pets.parquet``: each pet's adherence profile, engagement level and
auto-ship flag. ``process.json``: the world's ``Process`` (every field),
``"family"``: whether it was drawn from the family or is the standard one,
and ``"shift"``: the ``Shift`` (start, transit_extra_days, lateness_factor),
null without one.
``faults.csv``: the ledger of the faults injected (``faults``): ``extract,
day, kind``, a row per day on which someone watching the feed should be told
something is wrong (an ``outage``, a ``file_missing_column``, a
``file_truncated``, the ``schema_drift``), as opposed to the routine quirks
ingestion absorbs; ``day`` (YYYY-MM-DD) is the delivery day; header only
when ``quirks=False``. It scores data-quality alerts.
"""

from refill_simulator.shift import Shift
from refill_simulator.world import (
    DEMO_WORLD_PETS,
    LARGE_WORLD_PETS,
    SimulationSummary,
    simulate,
)

__all__ = ["DEMO_WORLD_PETS", "LARGE_WORLD_PETS", "Shift", "SimulationSummary", "simulate"]
