"""Time whole default-world runs (build, burn-in, 40 policy quarters, outcome tables), as a
sweep's worker does them: ``python bench/default_world.py REGIMES REPS`` prints one JSON line.

A plain script that imports only ``sim``, so ``bench/run.py`` can run it against another
revision of the model (``PYTHONPATH`` pointing at that revision's tree).

The garbage collector is handled as a sweep worker handles it (``sim.runner.worker``): frozen
after the warm-up run, and a full collection between runs, outside the timing. In a plain loop a
full pass over every object of the process (80-200 ms with pandas and Mesa loaded) lands in one
run of every 5-7 and decides the median; a worker never pays it (it collects ~2 ms a run).
"""

from __future__ import annotations

import gc
import json
import sys
import time


def main(regimes: list[str], reps: int) -> dict[str, dict[str, list[float]]]:
    from sim.model.simulate import simulate
    from sim.scenario.files import load_scenario

    timings: dict[str, dict[str, list[float]]] = {}
    for regime in regimes:
        scenario = load_scenario(regime)
        simulate(scenario, 1)  # warm-up: kernels loaded, first-call costs paid
        gc.collect()
        gc.freeze()  # as a worker does after its first run
        wall, cpu = [], []
        for rep in range(reps):
            gc.collect()  # as a worker does between runs
            w, c = time.perf_counter(), time.process_time()
            simulate(scenario, 2 + rep)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        timings[regime] = {"wall_sec": wall, "cpu_sec": cpu}
    return timings


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1].split(","), int(sys.argv[2]))))
