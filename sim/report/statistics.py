"""Statistics for the report: bootstrap intervals, effect sizes, interval stability over n.

Percentile bootstraps with a fixed generator, so the report is reproducible. Differences between
two groups of runs are paired by seed when the groups share their seeds (an experiment with
``seeds: common`` gives replicate r of every scenario the same seed, hence the same world and
demand path), and unpaired otherwise: ``compare`` decides from the table's ``seed`` column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.runner.numbers import MIN_SEEDS

DEFAULT_RESAMPLES = 2000
RNG_SEED = 12345


@dataclass(frozen=True)
class Interval:
    """A point estimate with a (1 - alpha) interval."""

    estimate: float
    low: float
    high: float
    n: int
    paired: bool = False  # a difference resampled by seed (common random numbers)

    @property
    def pairing(self) -> str:
        """How the interval was computed, for tables: 'paired (n seeds)' or 'unpaired'."""
        return f"paired ({self.n} seeds)" if self.paired else "unpaired"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def fmt(self, digits: int = 3) -> str:
        return f"{self.estimate:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def _clean(values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def bootstrap_mean(
    values, alpha: float = 0.05, resamples: int = DEFAULT_RESAMPLES, seed: int = RNG_SEED
) -> Interval:
    """Mean with a percentile bootstrap interval (NaNs dropped)."""
    x = _clean(values)
    if x.size == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Interval(float(x.mean()), float(low), float(high), int(x.size))


def bootstrap_difference(
    a,
    b,
    paired: bool = False,
    relative: bool = False,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = RNG_SEED,
) -> Interval:
    """Difference of means a - b (or a / b - 1 with ``relative``) with a bootstrap interval.

    ``paired`` resamples (a_i, b_i) pairs together, which is valid only when run i of both
    samples shares its seed; otherwise the two samples are resampled independently.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = x[keep], y[keep]
    else:
        x, y = _clean(x), _clean(y)
    if x.size == 0 or y.size == 0:
        return Interval(np.nan, np.nan, np.nan, 0)

    def stat(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
        return mx / my - 1 if relative else mx - my

    rng = np.random.default_rng(seed)
    if paired:
        idx = rng.integers(0, x.size, (resamples, x.size))
        boot = stat(x[idx].mean(axis=1), y[idx].mean(axis=1))
    else:
        boot = stat(
            x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1),
            y[rng.integers(0, y.size, (resamples, y.size))].mean(axis=1),
        )
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    estimate = float(stat(np.array(x.mean()), np.array(y.mean())))
    return Interval(estimate, float(low), float(high), int(min(x.size, y.size)), paired)


MIN_SHARED = 0.5  # pair only when at least this share of each group's seeds is in the other


def seed_means(runs: pd.DataFrame, column: str) -> pd.Series:
    """Mean of ``column`` per seed over finite values (several runs per seed: a pooled group)."""
    values = runs[["seed", column]].astype({column: float})
    values = values[np.isfinite(values[column])]
    return values.groupby("seed")[column].mean()


def shared_seeds(a: pd.Series, b: pd.Series) -> pd.Index | None:
    """The seeds two groups of runs share, if they share most of them (else None: unpaired).

    With ``seeds: common`` both groups ran replicate r on the same seed, so their seed sets are
    equal (up to failed runs); with independent seeds (63-bit) they never meet.
    """
    common = a.index.intersection(b.index)
    if len(common) < 2 or len(common) < MIN_SHARED * max(len(a), len(b)):
        return None
    return common.sort_values()


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    column: str,
    relative: bool = False,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = RNG_SEED,
) -> Interval:
    """Mean of ``column`` in runs ``a`` minus runs ``b``, paired by seed when they share seeds.

    Paired: each group is averaged per seed (pooled groups hold several runs per seed, which are
    correlated, so the seed is the unit to resample), the seeds both ran are kept, and the
    per-seed differences are bootstrapped. Otherwise runs are resampled independently per group.
    ``Interval.paired`` says which was done.
    """
    if "seed" in a and "seed" in b:
        ma, mb = seed_means(a, column), seed_means(b, column)
        common = shared_seeds(ma, mb)
        if common is not None:
            return bootstrap_difference(
                ma[common], mb[common], True, relative, alpha, resamples, seed
            )
    return bootstrap_difference(a[column], b[column], False, relative, alpha, resamples, seed)


def paired_d(a: pd.DataFrame, b: pd.DataFrame, column: str) -> float:
    """d_z: mean per-seed difference over its sd (NaN unless the groups share seeds).

    Cohen's d (pooled sd of runs) says how large the effect is against world-to-world spread;
    d_z says how consistently the policy wins world by world, which is what pairing resolves.
    """
    if "seed" not in a or "seed" not in b:
        return float("nan")
    ma, mb = seed_means(a, column), seed_means(b, column)
    common = shared_seeds(ma, mb)
    if common is None:
        return float("nan")
    d = (ma[common] - mb[common]).to_numpy()
    sd = d.std(ddof=1)
    return float(d.mean() / sd) if sd > 0 else float("nan")


def cohens_d(a, b) -> float:
    """Standardised difference of means (pooled sd): positive when a exceeds b."""
    x, y = _clean(a), _clean(b)
    if x.size < 2 or y.size < 2:
        return float("nan")
    pooled = np.sqrt(
        ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)
    )
    return float((x.mean() - y.mean()) / pooled) if pooled > 0 else float("nan")


TOO_FEW = "too few seeds"


def verdict(interval: Interval, tolerance: float = 0.0) -> str:
    """'beats', 'loses' or 'ties': beats/loses only when the interval clears +-tolerance;
    TOO_FEW when fewer than ``MIN_SEEDS`` runs (or seeds, paired) stand behind it."""
    if not np.isfinite(interval.low):
        return "n/a"
    if interval.n < MIN_SEEDS:
        return TOO_FEW
    if interval.low > tolerance:
        return "beats"
    if interval.high < -tolerance:
        return "loses"
    return "ties"


def interval_stability(
    values, sizes: list[int] | None = None, seed: int = RNG_SEED, resamples: int = 1000
) -> pd.DataFrame:
    """CI half-width of the mean against the number of runs n (Lee et al. 2015).

    For each n, the first n runs (in replicate order) are bootstrapped; the half-width is also
    given relative to the mean, so a reader sees where adding runs stops buying precision.
    """
    x = _clean(values)
    if sizes is None:
        sizes = sorted({n for n in (5, 10, 15, 20, 25, 30, 40, 50, 75, 100) if n <= x.size})
        if x.size not in sizes and x.size >= 2:
            sizes.append(int(x.size))
    rows = []
    for n in sizes:
        ci = bootstrap_mean(x[:n], seed=seed, resamples=resamples)
        rows.append(
            {
                "n": n,
                "mean": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "half_width": ci.half_width,
                "relative_half_width": ci.half_width / abs(ci.estimate) if ci.estimate else np.nan,
            }
        )
    return pd.DataFrame(rows)


def stable_n(stability: pd.DataFrame, tolerance: float = 0.05) -> int | None:
    """Smallest n from which the relative half-width stays below ``tolerance`` (None: never)."""
    ok = stability["relative_half_width"].to_numpy() < tolerance
    for i in range(len(ok)):
        if ok[i:].all():
            return int(stability["n"].iloc[i])
    return None
