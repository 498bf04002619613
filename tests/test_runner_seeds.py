"""Seed modes: common random numbers across points, independent worlds for every run, or worlds
shared by the scenarios of one design point (paired)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sim.runner.plan import make_plan
from sim.runner.seeds import run_seed
from sim.scenario.errors import InputError


def _plan(tmp_path: Path, seeds: str | None):
    (tmp_path / "a.yaml").write_text("name: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: b\npolicy: {budget_per_quarter: 100}\n")
    body = """
        scenarios: [a.yaml, b.yaml]
        vary: {policy.planning_quality: [0.2, 0.8]}
        replicates: 3
        master_seed: 11
        """
    if seeds is not None:
        body += f"seeds: {seeds}\n"
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return make_plan(path)


def _seeds(plan) -> dict[tuple[int, int], int]:
    return {(run.point, run.replicate): run.seed for run in plan.runs}


def test_common_seeds_match_across_points_and_differ_across_replicates(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "common")
    seeds = _seeds(plan)
    points = range(len(plan.points))
    for r in range(3):
        assert len({seeds[(p, r)] for p in points}) == 1
    assert len({seeds[(0, r)] for r in range(3)}) == 3
    # stable across calls, and different from the independent derivation
    assert seeds == _seeds(_plan(tmp_path, "common"))
    assert seeds[(0, 0)] == run_seed(11, 5, 0, "common") != run_seed(11, 0, 0)
    # same seed, different scenario or parameters: still different runs in the store
    assert len({run.key for run in plan.runs}) == len(plan.runs)


def test_independent_is_the_default_and_gives_every_run_its_own_seed(tmp_path: Path) -> None:
    default, explicit = _plan(tmp_path, None), _plan(tmp_path, "independent")
    assert default.experiment.seeds == "independent"
    seeds = _seeds(default)
    assert seeds == _seeds(explicit)
    assert len(set(seeds.values())) == len(seeds)
    assert all(seeds[key] == run_seed(11, *key) for key in seeds)


def test_paired_seeds_are_shared_within_a_design_point_and_new_across_points(
    tmp_path: Path,
) -> None:
    plan = _plan(tmp_path, "paired")
    seeds = _seeds(plan)
    rows = len(plan.points) // len(plan.bases)  # points run base by base over the design rows
    assert rows == 2 and plan.points[rows].base == 1
    for row in range(rows):
        for r in range(3):
            # scenario a and scenario b at the same design point and replicate: one world
            assert seeds[(row, r)] == seeds[(rows + row, r)]
    # a new world at every design point and replicate
    assert len({seeds[(row, r)] for row in range(rows) for r in range(3)}) == rows * 3
    # a stream of its own: neither the common nor the independent seeds
    others = set(_seeds(_plan(tmp_path, "common")).values())
    others |= set(_seeds(_plan(tmp_path, "independent")).values())
    assert not set(seeds.values()) & others
    assert seeds == _seeds(_plan(tmp_path, "paired"))  # stable
    assert len({run.key for run in plan.runs}) == len(plan.runs)


def test_unknown_seed_mode_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="seeds"):
        _plan(tmp_path, "shuffled")
    with pytest.raises(ValueError):
        run_seed(1, 0, 0, "shuffled")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_seed(1, 0, 0, "paired")  # the design row is missing
