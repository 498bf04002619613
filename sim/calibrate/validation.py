"""Validation that cannot fool itself: every target of the calibration file on many fresh seeds.

The seeds come from a stream of their own (``SeedSequence(master_seed, spawn_key=(1, i))``), one
the calibration's evaluations never draw from, and there are 32 by default: a pattern that holds
only on a lucky seed set fails here. Each statistic is reported with a 95% interval from resampling
the seeds, and a target passes when the statistic over all seeds lies in its band; a pattern (a
stylized fact, or a historical figure) passes when all its targets do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim.calibrate.config import Calibration
from sim.calibrate.measure import measure_seed
from sim.calibrate.patterns import STATISTICS, bootstrap_interval
from sim.calibrate.smc import setting_of
from sim.runner.executors import ExecutorSpec, open_executor

VALIDATION_STREAM = 1  # spawn-key prefix of validation seeds (calibration seeds use other entropy)


@dataclass
class TargetCheck:
    name: str
    fact: str
    observed: float
    low: float  # 95% interval over resampled seeds
    high: float
    target: str
    passed: bool
    robust: bool  # the whole interval lies in the band
    detail: str
    source: str

    @property
    def observed_text(self) -> str:
        return f"{self.observed:.4g} [{self.low:.4g}, {self.high:.4g}]"

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        note = "" if self.robust or not self.passed else " (interval crosses the band)"
        return f"[{status}] {self.name}: {self.observed_text} (target {self.target}){note}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "observed_text": self.observed_text}


def stream_seeds(master_seed: int, stream: int, count: int) -> list[int]:
    """``count`` seeds of one stream (``SeedSequence(master_seed, spawn_key=(stream, i))``):
    streams never share a seed with each other or with the calibration's evaluations."""
    return [
        int(
            np.random.SeedSequence(master_seed, spawn_key=(stream, i)).generate_state(
                1, dtype=np.uint64
            )[0]
            >> np.uint64(1)
        )
        for i in range(count)
    ]


def validation_seeds(master_seed: int, count: int) -> list[int]:
    return stream_seeds(master_seed, VALIDATION_STREAM, count)


def measure(
    calibration: Calibration,
    values: dict[str, Any],
    seeds: list[int],
    executor: ExecutorSpec,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """One record per seed, in seed order, whatever runs where.

    calibration: scenarios, fixed keys, timing and the targets (which run groups are needed)
    values: dotted keys applied to every run (e.g. a calibrated scenario's values)
    seeds: the seeds to run
    executor: where the seeds run
    progress: called once per finished seed
    """
    setting, groups = setting_of(calibration), calibration.groups()
    with open_executor(executor) as opened:
        futures = [
            opened.executor.submit(measure_seed, setting, values, seed, groups) for seed in seeds
        ]
        records = []
        for future in futures:
            records.append(future.result())
            if progress is not None:
                progress()
    return records


def check(calibration: Calibration, records: list[dict[str, Any]]) -> list[TargetCheck]:
    """Each target's statistic over the records, its interval, pass or fail."""
    checks = []
    for name, target in calibration.targets.items():
        statistic = STATISTICS[calibration.statistic_of(name)]
        observed = statistic.compute(records)
        low, high = bootstrap_interval(records, statistic)
        band_low, band_high = target.band
        passed = math.isfinite(observed) and band_low <= observed <= band_high
        robust = passed and band_low <= low and high <= band_high
        checks.append(
            TargetCheck(
                name,
                statistic.fact,
                observed,
                low,
                high,
                target.text(),
                passed,
                robust,
                statistic.meaning,
                target.source,
            )
        )
    return checks


def patterns(checks: list[TargetCheck]) -> dict[str, bool]:
    """Each stylized fact or historical figure: passes when every target measuring it does."""
    out: dict[str, bool] = {}
    for c in checks:
        out[c.fact] = out.get(c.fact, True) and c.passed
    return out
