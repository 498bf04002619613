"""Time the cluster model at one size and regime; run as a fresh process so its peak memory is
its own: ``python -m bench.model_size REGIME SCALE REPS STEPS`` prints one JSON line."""

from __future__ import annotations

import json
import sys
import time

from bench.timing import peak_rss_mib, time_steps


def measure(regime: str, scale: float, reps: int, steps: int) -> dict[str, float | str]:
    """Build (burn-in included), warm up, then time policy quarters with outcomes collected."""
    from sim.model import ClusterModel

    start = time.perf_counter()
    model = ClusterModel(scenario=regime, seed=1, overrides={"world.scale": scale})
    build = time.perf_counter() - start
    firms_start = model.firms.n_alive
    # warm up through a whole planning cycle: a process loads each kernel from the disk cache
    # the first time it calls it (~10 ms for planning's, whose first re-plan is quarter 4), a
    # once-a-process cost (the cold-run figure), not a quarter's
    warmup = model.config.policy.planning_cycle + 1
    timing = time_steps(model.step, warmup=warmup, reps=reps, steps=steps)
    firms = (firms_start + model.firms.n_alive) / 2  # the population drifts a little
    return {
        "regime": regime,
        "scale": scale,
        "clusters": model.clusters.count,
        "firms": round(firms),
        "capacity": model.firms.capacity,
        "build_sec": build,
        **timing,
        "firm_steps_per_sec": firms / timing["sec_per_step"],
        "cpu_firm_steps_per_sec": firms / timing["cpu_sec_per_step"],
        "peak_rss_mib": peak_rss_mib(),
    }


if __name__ == "__main__":
    regime, scale, reps, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure(regime, scale, reps, steps)))
