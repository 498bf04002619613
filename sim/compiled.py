"""Compiled per-firm loops: one pass over the firms instead of dozens of numpy passes.

At 100,000 firms a quarter is a few hundred whole-array numpy operations, each a trip through
memory; a loop compiled by numba does the same arithmetic in one trip. Kernels keep the model's
output bit-for-bit: they do only IEEE arithmetic, comparisons, gathers and sums in the numpy
code's order, while transcendental functions (``exp``, ``log``) and every random draw stay in
numpy (numpy's vectorised ``exp``/``log`` round differently from the C library's), and
``error_model="numpy"`` keeps numpy's division semantics (inf/nan, no exception).

Compiled code is cached next to the module (``__pycache__``), so only the first run on a machine
pays the compilation (a few seconds); ``python -m sim.compiled`` compiles everything up front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numba

F = TypeVar("F", bound=Callable)


def kernel(function: F) -> F:
    """Compile a per-firm loop (cached on disk; numpy's division and overflow semantics)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def compile_all() -> None:
    """Run every regime's code path once on a tiny world, so every kernel is compiled and cached
    (``make install`` does this; a sweep's worker processes then load kernels from the cache)."""
    from sim.model import ClusterModel

    for preset in ("no_policy", "top_down", "demand_driven", "bottom_up", "indonesia"):
        model = ClusterModel(
            scenario=preset,
            seed=0,
            overrides={"world.scale": 0.3, "run.burn_in": 2, "policy.planning_cycle": 1},
        )
        for _ in range(3):
            model.step()


if __name__ == "__main__":
    import time

    started = time.perf_counter()
    compile_all()
    print(f"compiled kernels ready ({time.perf_counter() - started:.1f} s)")
