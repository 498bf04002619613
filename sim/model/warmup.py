"""Compile and cache every kernel once (``make install`` runs ``python -m sim.model.warmup``), so
a sweep's worker processes load kernels from the disk cache instead of compiling them."""

from __future__ import annotations

import time

from sim.model.model import ClusterModel
from sim.scenario.presets import PRESETS


def compile_all() -> None:
    """Run every preset's code path once on a tiny world, so every kernel is compiled."""
    for preset in (*PRESETS, "indonesia"):
        model = ClusterModel(
            scenario=preset,
            seed=0,
            overrides={"world.scale": 0.3, "run.burn_in": 2, "policy.planning_cycle": 1},
        )
        for _ in range(3):
            model.step()


if __name__ == "__main__":
    started = time.perf_counter()
    compile_all()
    print(f"compiled kernels ready ({time.perf_counter() - started:.1f} s)")
