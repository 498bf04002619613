"""Expanding a design into points: each point is a mapping of varied scenario keys to values.

Sampling designs draw in the unit hypercube through SALib (bounds [0, 1] for every factor) and map
each coordinate through its factor, so lists, ranges and distributions mix freely in one design and
the sampler never sees the factors' units.

Point counts per base scenario (D = number of factors): factorial: product of the factors' level
counts; lhs: N; sobol: N(D+2), or N(2D+2) with ``calc_second_order: true``; morris: r(D+1).
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from sim.runner.experiment import Design, Experiment, Factor

# quantile functions return +-inf at 0 and 1 (Sobol and Morris do reach the bounds)
_EDGE = 1e-9


def design_points(experiment: Experiment) -> list[dict[str, Any]]:
    """Points of the design over ``vary`` (without the scenario factor), in a stable order."""
    keys = list(experiment.vary)
    if experiment.design.kind == "factorial":
        levels = [factor_levels(experiment.vary[key]) for key in keys]
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*levels)]
    unit = unit_samples(experiment.design, len(keys), seed=_sampler_seed(experiment))
    return [
        {
            key: factor_value(experiment.vary[key], float(u))
            for key, u in zip(keys, row, strict=True)
        }
        for row in unit
    ]


def expected_point_count(design: Design, level_counts: list[int]) -> int:
    """How many points a design gives per base scenario; the documented formulas, for checks."""
    d = len(level_counts)
    n = design.samples or 0
    if design.kind == "factorial":
        return math.prod(level_counts)
    if design.kind == "lhs":
        return n
    if design.kind == "sobol":
        return n * (2 * d + 2 if design.calc_second_order else d + 2)
    return n * (d + 1)


def design_size(experiment: Experiment) -> int:
    """Points per base scenario, computed from the file alone (exact integers, nothing built).

    Lets a plan refuse a design of 10^12 points before trying to build it.
    """
    level_counts = [
        len(factor.values) if factor.values is not None else int(factor.levels or 0)
        for factor in experiment.vary.values()
    ]
    return expected_point_count(experiment.design, level_counts)


def factor_levels(factor: Factor) -> list[Any]:
    """The values a factor takes in a factorial design."""
    if factor.values is not None:
        return list(factor.values)
    grid = np.linspace(factor.low, factor.high, factor.levels)  # type: ignore[arg-type]
    return [_finish(factor, float(x)) for x in grid]


def unit_samples(design: Design, dimensions: int, seed: int) -> np.ndarray:
    """The SALib sample in [0, 1]^D, shape (points, D)."""
    from SALib.sample import latin, morris, sobol

    problem = {
        "num_vars": dimensions,
        "names": [f"x{i}" for i in range(dimensions)],
        "bounds": [[0.0, 1.0]] * dimensions,
    }
    n = int(design.samples or 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about conventions we already validated
        if design.kind == "lhs":
            return np.asarray(latin.sample(problem, n, seed=seed))
        if design.kind == "sobol":
            return np.asarray(
                sobol.sample(problem, n, calc_second_order=design.calc_second_order, seed=seed)
            )
        if design.kind == "morris":
            return np.asarray(morris.sample(problem, n, num_levels=design.levels, seed=seed))
    raise ValueError(f"not a sampling design: {design.kind}")


def factor_value(factor: Factor, u: float) -> Any:
    """Map a unit coordinate to the factor's value."""
    if factor.values is not None:
        index = min(int(u * len(factor.values)), len(factor.values) - 1)
        return factor.values[index]
    if factor.dist is None or factor.dist == "uniform":
        return _finish(factor, factor.low + u * (factor.high - factor.low))  # type: ignore[operator]
    from scipy import stats  # here, not at the top: importing scipy costs every sweep a second

    q = min(max(u, _EDGE), 1 - _EDGE)
    if factor.dist == "normal":
        value = stats.norm.ppf(q, loc=factor.mean, scale=factor.sd)
    elif factor.dist == "lognormal":
        value = math.exp(stats.norm.ppf(q, loc=factor.mean, scale=factor.sd))
    elif factor.dist == "triangular":
        width = factor.high - factor.low  # type: ignore[operator]
        c = (factor.mode - factor.low) / width  # type: ignore[operator]
        value = stats.triang.ppf(q, c, loc=factor.low, scale=width)
    else:  # truncnormal
        a = (factor.low - factor.mean) / factor.sd  # type: ignore[operator]
        b = (factor.high - factor.mean) / factor.sd  # type: ignore[operator]
        value = stats.truncnorm.ppf(q, a, b, loc=factor.mean, scale=factor.sd)
    return _finish(factor, float(value))


def _finish(factor: Factor, value: float) -> float | int:
    return int(round(value)) if factor.integer else float(value)


def _sampler_seed(experiment: Experiment) -> int:
    seed = experiment.design.seed
    return experiment.master_seed if seed is None else seed
