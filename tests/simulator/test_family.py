"""The family of worlds: a latent process drawn per seed from documented ranges.

Small worlds (1,500 pets over four months, about a second each); the
truth checks are the standard world's (``test_simulator``), run on a
family member.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date

import numpy as np
import polars as pl
import pytest

from refill_assets.cli.main import main
from refill_simulator import SimulationSummary, simulate
from refill_simulator import fills as fill_loop
from refill_simulator import truth as truth_module
from refill_simulator.behaviour import EARLIEST_REFILL, ENGAGEMENT_LEVELS, PROFILES
from refill_simulator.process import RANGES, Process, draw_process, process_record
from tests.simulator import test_simulator as standard

START, END = standard.START, standard.END
SEED_A, SEED_B = 21, 22


def _world(folder, seed: int, family: bool = True) -> SimulationSummary:
    return simulate(folder, pets=1500, start=START, end=END, seed=seed, family=family)


@pytest.fixture(scope="module")
def family_a(tmp_path_factory) -> SimulationSummary:
    return _world(tmp_path_factory.mktemp("family_a"), SEED_A)


@pytest.fixture(scope="module")
def family_b(tmp_path_factory) -> SimulationSummary:
    return _world(tmp_path_factory.mktemp("family_b"), SEED_B)


def _process_json(world: SimulationSummary) -> dict:
    return json.loads((world.truth / "process.json").read_text(encoding="utf-8"))


def _as_process(record: dict) -> Process:
    """A process.json record back into a Process (lists to tuples)."""

    def tupled(value):
        return tuple(map(tupled, value)) if isinstance(value, list) else value

    return Process(**{f.name: tupled(record[f.name]) for f in fields(Process)})


# ---------------------------------------------------------------- reproducible, and a family


def test_same_seed_same_family_world(family_a, tmp_path):
    again = _world(tmp_path / "again", SEED_A)
    assert again.family and family_a.family
    for part in ("landing", "truth"):
        first = standard._digest(family_a.landing.parent / part)
        assert first and first == standard._digest(tmp_path / "again" / part), part
    assert again.rows == family_a.rows and again.fills == family_a.fills


def test_two_seeds_two_processes_two_worlds(family_a, family_b):
    a, b = _process_json(family_a), _process_json(family_b)
    assert a["family"] is True and b["family"] is True
    differ = [name for name in RANGES if a[name] != b[name]]
    assert len(differ) > len(RANGES) / 2
    assert standard._digest(family_a.landing) != standard._digest(family_b.landing)
    truth_a = pl.read_parquet(family_a.truth / "next_fill.parquet")
    truth_b = pl.read_parquet(family_b.truth / "next_fill.parquet")
    assert not truth_a.equals(truth_b)


def test_standard_world_records_the_defaults_and_family_changes_it(family_a, tmp_path):
    plain = _world(tmp_path / "plain", SEED_A, family=False)
    record = _process_json(plain)
    assert record == json.loads(json.dumps(process_record(Process(), family=False)))
    assert record["family"] is False and not plain.family
    assert record["profile_given_engagement"][2] == [0.41, 0.27, 0.16, 0.10, 0.06]
    assert record["reauth_expiry_days"] == 10 and record["pause_prob"] == 0.22
    # the same seed drawn from the family is another world
    assert _process_json(family_a) == json.loads(
        json.dumps(process_record(draw_process(SEED_A), family=True))
    )
    assert standard._digest(plain.landing) != standard._digest(family_a.landing)


def test_cli_family_flag(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["simulate", "--out", str(out), "--pets", "200", "--end", "2025-02-15", "--seed", "4"]
    assert main([*argv, "--family"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["family"] is True  # stdout: the summary alone
    # stderr: where it is, a line when it starts and one when it ends
    step = f"200 pets, 2025-01-01 … 2025-02-15, into {out}"
    lines = printed.err.splitlines()
    assert lines[:2] == ["refill simulate: 1 step", f"[1/1] start {step}"]
    assert len(lines) == 3 and lines[2].startswith(f"[1/1] done  {step} in ")
    record = json.loads((out / "truth" / "process.json").read_text(encoding="utf-8"))
    assert record["family"] is True and _as_process(record) == draw_process(4)


# ---------------------------------------------------------------- the ranges


def _within(value, r, tol: float = 1e-12) -> bool:
    v, lo, hi = (np.asarray(x, dtype=float) for x in (value, r.low, r.high))
    return v.shape == lo.shape == hi.shape and bool(np.all((lo - tol <= v) & (v <= hi + tol)))


def test_every_field_has_a_documented_range_holding_the_standard_world():
    assert list(RANGES) == [f.name for f in fields(Process)]
    standard_process = Process()
    for name, r in RANGES.items():
        assert r.meaning, name
        assert _within(getattr(standard_process, name), r), name


def test_drawn_processes_lie_within_their_ranges():
    draws = [draw_process(seed) for seed in range(200)]
    assert draw_process(7) == draw_process(7)
    standard_process = Process()
    for name, r in RANGES.items():
        values = [getattr(p, name) for p in draws]
        kind = type(getattr(standard_process, name))
        for value in values:
            assert type(value) is kind, name
            assert _within(value, r), (name, value)
            if r.sort:  # the engagement gradient keeps its direction
                assert np.all(np.diff(value) * r.sort >= 0), (name, value)
        assert len({json.dumps(v) for v in values}) > 1, f"{name} never varies"


def test_drawn_processes_keep_the_cross_field_limits():
    for p in map(draw_process, range(200)):
        mix = np.array(p.profile_given_engagement)
        assert mix.shape == (len(ENGAGEMENT_LEVELS), len(PROFILES))
        assert np.allclose(mix.sum(axis=1), 1.0) and (mix > 0).all()
        # engaged owners stay the more punctual
        assert np.all(np.diff(mix[:, 0]) > 0) and np.all(np.diff(mix[:, -1]) < 0)
        effective = np.array(p.ratio_median)[None, :] ** np.array(p.engagement_log_scale)[:, None]
        assert effective.min() > EARLIEST_REFILL
        forget = max(p.forget_prob) * max(p.engagement_forget_factor) * p.winter_forget_factor
        assert forget <= 1 and max(p.stop_prob) * max(p.engagement_stop_factor) <= 1
        # a pause ends by February, so the spring it waits for is the next March
        assert p.pause_first_month + p.pause_length_months - 1 <= 14
        assert set(p.pause_months) <= {9, 10, 11, 12, 1, 2}
        assert len(p.winter_months) == p.winter_length_months


# ---------------------------------------------------------------- the truth of a family world


def test_family_truth_is_coherent(family_a):
    standard.test_stored_draws_reproduce_the_summaries(family_a)
    standard.test_truth_is_coherent_and_calibrated(family_a)


def test_world_and_truth_draw_with_the_drawn_process(tmp_path, monkeypatch):
    seen: dict[str, list[Process]] = {"fills": [], "truth": []}
    for key, module in (("fills", fill_loop), ("truth", truth_module)):

        def recording(*args, _draw=module.draw_next, _key=key, **kwargs):
            seen[_key].append(args[3])
            return _draw(*args, **kwargs)

        monkeypatch.setattr(module, "draw_next", recording)
    simulate(tmp_path, pets=300, start=START, end=date(2025, 2, 15), seed=SEED_B, family=True)
    drawn = draw_process(SEED_B)
    assert drawn != Process()
    assert seen["fills"] and seen["truth"]
    assert all(p == drawn for p in seen["fills"] + seen["truth"])


def _profile_shares(world: SimulationSummary) -> tuple[np.ndarray, np.ndarray]:
    """Observed share of each adherence profile, and the share the drawn mix implies."""
    pets = pl.read_parquet(world.truth / "pets.parquet")
    mix = np.array(_process_json(world)["profile_given_engagement"])
    level = pets["engagement_level"].replace_strict(
        {name: i for i, name in enumerate(ENGAGEMENT_LEVELS)}
    )
    expected = mix[level.to_numpy()].mean(axis=0)
    profile = pets["adherence_profile"].to_numpy()
    observed = np.array([(profile == name).mean() for name in PROFILES])
    return observed, expected


def test_the_drawn_profile_mix_shows_in_the_pets(family_a, family_b):
    obs_a, exp_a = _profile_shares(family_a)
    obs_b, exp_b = _profile_shares(family_b)
    assert np.abs(obs_a - exp_a).max() < 0.035 and np.abs(obs_b - exp_b).max() < 0.035
    # where the drawn mixes differ most, the worlds differ the same way
    i = int(np.argmax(np.abs(exp_a - exp_b)))
    assert abs(exp_a[i] - exp_b[i]) > 0.03
    assert np.sign(obs_a[i] - obs_b[i]) == np.sign(exp_a[i] - exp_b[i])
    assert abs((obs_a[i] - obs_b[i]) - (exp_a[i] - exp_b[i])) < 0.04
