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
