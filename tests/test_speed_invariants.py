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

from sim.scenario.presets import PRESETS

REFERENCE = Path(__file__).parent / "data" / "speed_reference.json"
REGIMES = PRESETS
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
    from sim.model import ClusterModel
    from sim.model.agents import Firm

    model = ClusterModel(scenario="bottom_up", seed=3, overrides={"run.burn_in": 4})
    for _ in range(6):
        model.step()
    f = model.firms
    firms = list(model.agents_by_type[Firm])
    assert len(firms) == f.n_alive == int(f.alive.sum())
    assert sum(isinstance(a, Firm) for a in model.agents) == len(firms)
    assert sorted(a.unique_id for a in firms) == sorted(f.uid[: f.size].tolist())
    entrants = f.uid[: f.size][f.uid[: f.size] > model._founder_max_uid]
    assert len(entrants) and len(model._slot_by_uid) > int(f.uid[: f.size].max())
    for agent in firms[:: max(len(firms) // 50, 1)]:
        assert f.alive[agent.slot] and f.uid[agent.slot] == agent.unique_id
        assert model.firm_at(agent.slot) is agent
        assert agent.productivity == f.productivity[agent.slot]
    # after compaction every slot is live and every tie still joins the firms it joined
    assert f.size == f.n_alive and f.alive.all()
    for column, stage in ((f.supplier, 0), (f.trader, 2)):
        linked = np.flatnonzero(column >= 0)
        assert (f.stage[column[linked]] == stage).all()
        assert (f.cluster[column[linked]] == f.cluster[linked]).all()
    a, b = model.ties.pairs()
    assert (a < b).all() and (b < f.size).all() and (f.cluster[a] == f.cluster[b]).all()


def test_an_exited_firms_agent_serves_an_entrant_under_a_new_id() -> None:
    """Recycling agent objects must not recycle identities: an entrant's id is new, the exited
    firm's id is gone from the model, and the model holds exactly its live firms."""
    from sim.model import ClusterModel
    from sim.model.agents import Firm

    model = ClusterModel(scenario="no_policy", seed=5, overrides={"run.burn_in": 2})
    f = model.firms
    leaving = np.flatnonzero(f.alive)[:3]
    agents = [model.firm_at(int(slot)) for slot in leaving]
    old_ids = [agent.unique_id for agent in agents]
    highest = int(f.uid.max())
    f.cash[leaving] = -1e6
    f.loss_streak[leaving] = model.config.firms.exit_patience
    model.config.firms.entry_rate = 1.0  # plenty of entrants to take the three objects
    size_before = f.size
    model._exit_and_entry()
    entrant_ids = f.uid[size_before : f.size]  # entrants append; recycled and new objects
    assert len(entrant_ids) > 3 and (np.diff(entrant_ids) > 0).all()  # ids rise in slot order
    model._compact()
    live_ids = {agent.unique_id for agent in model.agents_by_type[Firm]}
    assert model.entries_step >= 3 and not live_ids & set(old_ids)
    assert live_ids == set(f.uid[: f.size].tolist()) and len(live_ids) == f.n_alive
    for agent in agents:  # the same objects, now entrants: new ids, their own rows
        assert agent in model.agents and agent.unique_id > highest
        assert f.uid[agent.slot] == agent.unique_id and model.firm_at(agent.slot) is agent


def test_compaction_keeps_live_firms_dense_and_their_rows_intact() -> None:
    """Entrants append, exits leave holes, ``compact`` moves the last live firms into them: a
    firm's row travels with it, and which slot a firm gets is part of a run's identity."""
    from sim.model.firm_state import FirmState

    rng = np.random.default_rng(0)
    state, rows, next_uid = FirmState(16), [], 0  # rows: uid per slot, None for a hole
    for _ in range(300):
        if rng.random() < 0.55:
            count = int(rng.integers(1, 12))
            slots = state.allocate(count)
            assert slots.tolist() == list(range(len(rows), len(rows) + count))
            state.uid[slots] = np.arange(next_uid, next_uid + count)
            state.productivity[slots] = np.arange(next_uid, next_uid + count) * 0.5
            rows += list(range(next_uid, next_uid + count))
            next_uid += count
        else:
            alive = np.flatnonzero(state.alive)
            leaving = rng.permutation(alive)[: int(rng.integers(0, len(alive) + 1))]
            state.release(leaving)
            for slot in leaving.tolist():
                rows[slot] = None
            if rng.random() < 0.7:
                moved_from, moved_to = state.compact()
                live = sum(r is not None for r in rows)
                holes = [i for i, r in enumerate(rows[:live]) if r is None]
                movers = [i for i, r in enumerate(rows) if i >= live and r is not None]
                assert moved_from.tolist() == movers and moved_to.tolist() == holes
                for source, target in zip(movers, holes, strict=True):
                    rows[target] = rows[source]
                rows = rows[:live]
        assert state.n_alive == sum(r is not None for r in rows) and state.size == len(rows)
        expected = np.array([-1 if r is None else r for r in rows])
        assert state.uid.tolist() == expected.tolist()
        live = expected >= 0  # an empty slot's other columns are stale until compact
        assert np.array_equal(state.productivity[live], expected[live] * 0.5)
        assert state.alive.tolist() == live.tolist()
        assert (state.cluster[~live] == -1).all()
        # beyond the live rows every buffer holds fill values (entrants rely on them)
        spare = state._buffers["productivity"][state.size :]
        assert (spare == 0.0).all() and (state._buffers["supplier"][state.size :] == -1).all()
