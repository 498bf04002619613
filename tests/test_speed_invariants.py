"""The speed work must not change what the model computes: fixed-seed runs of every regime
preset reproduce outcomes recorded from the code before it was optimised (to 1e-9 relative).

Regenerate the reference only after a deliberate change to model mechanisms (never to make an
optimisation pass): ``python tests/test_speed_invariants.py --write``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "data" / "speed_reference.json"
REGIMES = ("no_policy", "top_down", "demand_driven", "bottom_up")
SEED = 7
STEPS = 30
# a world with a few hundred clusters exercises entry/exit and slot reuse at more than toy size
OVERRIDES = {"world.scale": 3.0}


def fingerprint(regime: str) -> dict:
    """What a run produces: every aggregate row, the summary, and per-column cluster totals."""
    from sim.model import ClusterModel

    model = ClusterModel(scenario=regime, seed=SEED, overrides=OVERRIDES)
    for _ in range(STEPS):
        model.step()
    result = model.results()
    clusters = result.clusters.select_dtypes("number")
    return {
        "aggregate": {k: [float(v) for v in col] for k, col in result.aggregate.items()},
        "summary": {k: float(v) for k, v in result.summary.items()},
        "cluster_sums": {k: float(clusters[k].sum()) for k in clusters.columns},
        "cluster_weighted": {
            k: float((clusters[k].to_numpy() * (np.arange(len(clusters)) % 7919 + 1)).sum())
            for k in clusters.columns
        },
        "firm_uids_alive": int(model.firms.uid[model.firms.alive].sum()),
    }


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _compare(expected, actual, path: str = "") -> list[str]:
    if isinstance(expected, dict):
        problems = [f"{path}: keys differ"] if set(expected) != set(actual) else []
        for key in expected.keys() & actual.keys():
            problems += _compare(expected[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{path}: length {len(actual)} != {len(expected)}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in _compare(e, a, f"{path}[{i}]")
        ]
    return [] if _close(float(expected), float(actual)) else [f"{path}: {actual!r} != {expected!r}"]


@pytest.mark.parametrize("regime", REGIMES)
def test_fixed_seed_run_unchanged(regime: str) -> None:
    expected = json.loads(REFERENCE.read_text())[regime]
    problems = _compare(expected, fingerprint(regime))
    assert not problems, "\n".join(problems[:20])


if __name__ == "__main__" and "--write" in sys.argv:
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    data = {"_generated_from": revision, **{r: fingerprint(r) for r in REGIMES}}
    REFERENCE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE} from {revision}")


def test_batched_firm_agents_stay_registered_and_true() -> None:
    """Firms made and removed in batches are ordinary Mesa agents viewing their own rows."""
    from sim.agents import Firm
    from sim.model import ClusterModel

    model = ClusterModel(scenario="bottom_up", seed=3, overrides={"run.burn_in": 4})
    for _ in range(6):
        model.step()
    f = model.firms
    firms = list(model.agents_by_type[Firm])
    assert len(firms) == f.n_alive == int(f.alive.sum())
    assert sum(isinstance(a, Firm) for a in model.agents) == len(firms)
    assert [a.unique_id for a in firms] == sorted(a.unique_id for a in firms)
    for agent in firms[:: max(len(firms) // 50, 1)]:
        assert f.alive[agent.slot] and f.uid[agent.slot] == agent.unique_id
        assert model.firm_at(agent.slot) is agent
        assert agent.productivity == f.productivity[agent.slot]


def test_slot_stack_matches_a_plain_free_list() -> None:
    """Allocation order (which slot an entrant gets) is part of a run's identity."""
    from sim.firm_state import FirmState

    rng = np.random.default_rng(0)
    state, free = FirmState(16), list(range(15, -1, -1))
    for _ in range(200):
        if rng.random() < 0.55:
            count = int(rng.integers(1, 12))
            if count > len(free):
                capacity = state.capacity
                new = max(capacity * 2, capacity - len(free) + count)
                free = list(range(new - 1, capacity - 1, -1)) + free
            expected = [free.pop() for _ in range(count)]
            assert state.allocate(count).tolist() == expected
        else:
            alive = np.flatnonzero(state.alive)
            leaving = rng.permutation(alive)[: int(rng.integers(0, len(alive) + 1))]
            state.release(leaving)
            free.extend(int(s) for s in leaving)
        assert state.n_alive == state.capacity - len(free)
