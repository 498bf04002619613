"""ABC-SMC with pyabc: the model as a simulator of statistics, the targets as a band distance.

One evaluation runs a parameter set on ``seeds_per_evaluation`` seeds and returns the targets'
statistics. Its seeds are a function of the parameter values and the file's ``master_seed``, so
any accepted set can be re-evaluated to the same numbers; they come from a stream that the
validation seeds (``sim.calibrate.validation``) never share. pyabc's own proposals draw from
entropy, so two calibrations of one file accept different (equally valid) samples.

The distance counts how far each statistic lies outside its band, in the target's scale: zero
inside every band, so a population whose tolerance reaches zero holds parameter sets that
reproduce every target at once (pattern-oriented modelling, Grimm et al. 2005).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.calibrate.config import Calibration
from sim.calibrate.measure import Setting, measure_seed
from sim.calibrate.patterns import STATISTICS


def parameter_name(key: str) -> str:
    """pyabc's name for a dotted scenario key (pyabc stores names as plain identifiers)."""
    return key.replace(".", "__")


def dotted_key(name: str) -> str:
    return name.replace("__", ".")


def setting_of(calibration: Calibration) -> Setting:
    return Setting(
        world_scenario=calibration.scenarios.world,
        programme_scenario=calibration.scenarios.programme,
        indonesia_scenario=calibration.scenarios.indonesia,
        fixed=dict(calibration.set),
        steps=calibration.steps,
        shock_step=calibration.shock_step,
        historical_shock_step=calibration.historical_shock_step,
    )


def evaluation_seeds(master_seed: int, values: Mapping[str, Any], count: int) -> list[int]:
    """Seeds of one evaluation: a function of the parameter values, never of the clock."""
    text = json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True, default=float)
    entropy = [master_seed, 0, zlib.crc32(text.encode())]
    state = np.random.SeedSequence(entropy).generate_state(count, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


class Evaluation:
    """The model as pyabc sees it: a parameter set in, the targets' statistics out (picklable).

    calibration: the calibration file
    priors: dotted key -> (low, high, integer)
    """

    def __init__(self, calibration: Calibration, priors: dict[str, tuple[float, float, bool]]):
        self.setting = setting_of(calibration)
        self.integer = {key: spec[2] for key, spec in priors.items()}
        self.seeds = calibration.seeds_per_evaluation
        self.master_seed = calibration.master_seed
        self.groups = calibration.groups()
        self.statistics = sorted({calibration.statistic_of(t) for t in calibration.targets})

    def values(self, parameter: Mapping[str, float]) -> dict[str, Any]:
        """Dotted scenario keys -> values (integers rounded) of a pyabc parameter."""
        out: dict[str, Any] = {}
        for key, integer in self.integer.items():
            value = float(parameter[parameter_name(key)])
            out[key] = int(round(value)) if integer else value
        return out

    def records(self, values: dict[str, Any], seeds: list[int]) -> list[dict[str, Any]]:
        return [measure_seed(self.setting, values, seed, self.groups) for seed in seeds]

    def __call__(self, parameter: Mapping[str, float]) -> dict[str, float]:
        values = self.values(parameter)
        records = self.records(values, evaluation_seeds(self.master_seed, values, self.seeds))
        return {name: STATISTICS[name].compute(records) for name in self.statistics}


class BandDistance:
    """Root mean square of each target's miss outside its band, in its scale, weighted.

    calibration: the calibration file (targets, their bands, scales and weights)
    """

    def __init__(self, calibration: Calibration):
        self.targets = [
            (calibration.statistic_of(name), target) for name, target in calibration.targets.items()
        ]
        self.total_weight = sum(t.weight for _, t in self.targets) or 1.0

    def __call__(self, simulated: Mapping[str, float], observed: Mapping[str, float]) -> float:
        squares = sum(
            target.weight * target.miss(_number(simulated.get(statistic))) ** 2
            for statistic, target in self.targets
        )
        return math.sqrt(squares / self.total_weight)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def observed_statistics(calibration: Calibration) -> dict[str, float]:
    """What pyabc stores as observed data: each band's centre (the distance reads the bands)."""
    out = {}
    for name, target in calibration.targets.items():
        low, high = target.band
        centre = (
            (low + high) / 2
            if math.isfinite(low) and math.isfinite(high)
            else (low if math.isfinite(low) else high)
        )
        out[calibration.statistic_of(name)] = float(centre)
    return out


def prior_distribution(priors: dict[str, tuple[float, float, bool]]):
    """Independent uniform priors (pyabc's RV takes loc and scale)."""
    import pyabc

    return pyabc.Distribution(
        **{
            parameter_name(key): pyabc.RV("uniform", low, high - low)
            for key, (low, high, _) in priors.items()
        }
    )


def make_sampler(kind: str, workers: int, client: Any = None):
    """pyabc's sampler for an executor kind: one process, local cores, or a dask cluster.

    kind: serial, process or dask
    workers: local processes (process)
    client: a dask.distributed Client (dask)
    """
    from pyabc.sampler import (
        DaskDistributedSampler,
        MulticoreEvalParallelSampler,
        SingleCoreSampler,
    )

    if kind == "serial":
        return SingleCoreSampler(check_max_eval=True)
    if kind == "process":
        # check_max_eval: stop within a population at the cap fit._run_within_budget sets
        return MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True)
    return DaskDistributedSampler(dask_client=client, batch_size=1)
