"""Whole-command timings: a cold ``klaster run`` and sweep throughput on 1 and 2 workers."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SWEEP_FILE = Path(__file__).with_name("sweep.yaml")


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and its children (the machine is shared)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cold_run(scenario: str = "top_down", repeats: int = 3) -> dict[str, float | str]:
    """Wall time of ``klaster run SCENARIO`` in a new process (imports included), best and median.

    "Cold" is a new interpreter each time; the OS file cache is warm after the first one.
    """
    times, cpus = [], []
    with tempfile.TemporaryDirectory() as out:
        for i in range(repeats):
            command = [str(BIN / "klaster"), "run", scenario, "--quiet", "--out", f"{out}/{i}"]
            wall, cpu = _timed(command)
            times.append(wall)
            cpus.append(cpu)
    times.sort()
    cpus.sort()
    return {
        "command": f"klaster run {scenario} --quiet",
        "repeats": repeats,
        "wall_sec_min": times[0],
        "wall_sec_median": times[len(times) // 2],
        "wall_sec_max": times[-1],
        "cpu_sec_median": cpus[len(cpus) // 2],
    }


def first_run(scenario: str = "top_down") -> dict[str, float | str]:
    """``klaster run SCENARIO`` as the very first run on a machine: numba's kernel cache points
    at an empty folder, so every kernel compiles (``make install`` normally does this once)."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        command = [str(BIN / "klaster"), "run", scenario, "--quiet", "--out", out]
        wall, cpu = _timed(command, env)
    return {
        "command": f"klaster run {scenario} --quiet, empty kernel cache",
        "wall_sec": wall,
        "cpu_sec": cpu,
    }


def sweep_throughput(workers: tuple[int, ...] = (1, 2)) -> dict[str, float | int | str]:
    """Runs per minute of ``klaster sweep bench/sweep.yaml --executor process``; fresh output
    folder each time so nothing is skipped as already done."""
    from sim.runner.plan import make_plan

    runs = len(make_plan(SWEEP_FILE).runs)
    result: dict[str, float | int | str] = {"experiment": str(SWEEP_FILE.name), "runs": runs}
    for n in workers:
        out = Path(tempfile.mkdtemp(prefix="klaster-bench-sweep-"))
        try:
            command = [str(BIN / "klaster"), "sweep", str(SWEEP_FILE), "--executor", "process"]
            seconds, cpu = _timed([*command, "--workers", str(n), "--quiet", "--out", str(out)])
        finally:
            shutil.rmtree(out, ignore_errors=True)
        result[f"wall_sec_{n}_workers"] = seconds
        result[f"cpu_sec_{n}_workers"] = cpu
        result[f"runs_per_min_{n}_workers"] = runs / seconds * 60
    if 1 in workers and 2 in workers:
        result["speedup_2_vs_1"] = (
            result["runs_per_min_2_workers"] / result["runs_per_min_1_workers"]
        )
    return result
