"""Statistics used by the report: intervals cover what they claim, effects have the right sign."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.statistics import (
    bootstrap_difference,
    bootstrap_mean,
    cohens_d,
    compare,
    interval_stability,
    paired_d,
    stable_n,
    verdict,
)


def test_bootstrap_ci_covers_the_mean_of_a_known_distribution() -> None:
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(100):
        sample = rng.normal(5.0, 2.0, 40)
        ci = bootstrap_mean(sample, resamples=500, seed=int(rng.integers(1 << 30)))
        covered += ci.low <= 5.0 <= ci.high
        assert ci.low <= sample.mean() <= ci.high
    assert 85 <= covered <= 100  # nominal 95%; percentile bootstrap is a little narrow at n=40


def test_difference_sign_and_cohens_d_sign() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.0, 1.0, 200), rng.normal(0.0, 1.0, 200)
    diff = bootstrap_difference(a, b)
    assert diff.estimate > 0 and diff.low > 0 and verdict(diff) == "beats"
    assert verdict(bootstrap_difference(b, a)) == "loses"
    assert cohens_d(a, b) > 0 > cohens_d(b, a)
    assert abs(cohens_d(a, b) - 1.0) < 0.3
    rel = bootstrap_difference(np.full(10, 1.1), np.full(10, 1.0), relative=True)
    assert abs(rel.estimate - 0.1) < 1e-9


def test_paired_bootstrap_is_tighter_when_pairs_share_noise() -> None:
    rng = np.random.default_rng(3)
    world = rng.normal(0, 5, 60)
    a, b = world + 0.5 + rng.normal(0, 0.2, 60), world + rng.normal(0, 0.2, 60)
    paired = bootstrap_difference(a, b, paired=True)
    unpaired = bootstrap_difference(a, b)
    assert paired.half_width < unpaired.half_width / 5
    assert paired.low > 0 and verdict(unpaired) == "ties"


def test_nans_are_dropped_and_empty_is_nan() -> None:
    ci = bootstrap_mean([1.0, np.nan, 3.0])
    assert ci.n == 2 and ci.estimate == 2.0
    assert np.isnan(bootstrap_mean([]).estimate)
    assert verdict(bootstrap_mean([])) == "n/a"


def test_interval_stability_shrinks_with_n() -> None:
    values = np.random.default_rng(4).normal(10, 1, 60)
    table = interval_stability(values)
    assert list(table["n"])[:3] == [5, 10, 15] and table["n"].iloc[-1] == 60
    assert table["half_width"].iloc[-1] < table["half_width"].iloc[0]
    assert stable_n(table, tolerance=0.2) == 5
    assert stable_n(pd.DataFrame({"n": [5], "relative_half_width": [0.5]}), 0.1) is None


def _runs(seeds: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"seed": seeds, "replicate": np.arange(len(seeds)), "y": values})


def test_compare_pairs_by_shared_seed_and_is_narrower_and_covers_the_truth() -> None:
    rng = np.random.default_rng(5)
    n, truth = 40, 0.3
    seeds = rng.integers(0, 2**62, n)
    covered_paired = covered_unpaired = 0
    for _ in range(40):
        world = rng.normal(0, 1.0, n)  # the per-seed component both groups share
        a = _runs(seeds, world + truth + rng.normal(0, 0.3, n))
        b = _runs(seeds, world + rng.normal(0, 0.3, n))
        paired, unpaired = compare(a, b, "y", resamples=500), bootstrap_difference(a.y, b.y)
        assert paired.paired and not unpaired.paired and paired.pairing == f"paired ({n} seeds)"
        assert paired.half_width < 0.5 * unpaired.half_width
        covered_paired += paired.low <= truth <= paired.high
        covered_unpaired += unpaired.low <= truth <= unpaired.high
    assert covered_paired >= 34 and covered_unpaired >= 34  # nominal 95% of 40
    assert paired_d(a, b, "y") > 2 * cohens_d(a.y, b.y)


def test_compare_stays_unpaired_without_shared_seeds_and_averages_pooled_seeds() -> None:
    rng = np.random.default_rng(6)
    a = _runs(rng.integers(0, 2**62, 30), rng.normal(1, 1, 30))
    b = _runs(rng.integers(0, 2**62, 30), rng.normal(0, 1, 30))
    ci = compare(a, b, "y")
    assert not ci.paired and ci.pairing == "unpaired"
    assert ci == bootstrap_difference(a.y, b.y)
    assert np.isnan(paired_d(a, b, "y"))
    # a pooled group: three runs per seed are averaged per seed before pairing
    pooled = pd.concat([a.assign(y=a.y + k) for k in (0.0, 1.0, 2.0)], ignore_index=True)
    ci = compare(pooled, a, "y")
    assert ci.paired and ci.n == 30
    assert abs(ci.estimate - 1.0) < 1e-12
    assert ci.high - ci.low < 1e-9  # every per-seed difference is exactly 1
