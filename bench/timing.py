"""Timing helpers shared by the benchmarks: repeated blocks after warm-up, median and spread."""

from __future__ import annotations

import collections
import resource
import statistics
import time
from collections.abc import Callable


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_steps(step: Callable[[], None], warmup: int, reps: int, steps: int) -> dict[str, float]:
    """Seconds per step over ``reps`` blocks of ``steps`` steps, wall and CPU.

    The machine is shared, so wall time is noisy; CPU time of this process is reported beside it
    (for a single-threaded numpy step the two agree on a quiet machine).
    """
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        wall.append((time.perf_counter() - w) / steps)
        cpu.append((time.process_time() - c) / steps)
    return {
        "reps": reps,
        "steps_per_rep": steps,
        "sec_per_step": statistics.median(wall),
        "sec_per_step_min": min(wall),
        "sec_per_step_max": max(wall),
        "cpu_sec_per_step": statistics.median(cpu),
    }


def timed(
    fn: Callable,
    label: str,
    seconds: collections.Counter,
    calls: collections.Counter | None = None,
) -> Callable:
    """``fn``, adding the CPU seconds of each call to ``seconds[label]`` (and counting calls in
    ``calls``): CPU time of this process, so other load on the machine does not blur it."""

    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[label] += time.process_time() - start
            if calls is not None:
                calls[label] += 1

    return wrapper
