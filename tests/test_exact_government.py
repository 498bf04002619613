"""The compiled forms of government's numpy steps give numpy's numbers to the bit: the
productivity frontier's quantile (``kernels.support.quantile`` for small products,
``support.quantile`` for large ones) and the frontiers per product."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import support
from sim.model.kernels import support as kernels


def _samples(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Arrays numpy's quantile could meet: continuous, lognormal, heavy ties, sorted, reversed,
    constant."""
    lognormal = rng.lognormal(0.0, 0.7, n)
    return [
        rng.standard_normal(n),
        lognormal,
        rng.integers(0, 4, n).astype(float),  # ties around every order statistic
        np.round(lognormal, 1),
        np.sort(lognormal),
        np.sort(lognormal)[::-1].copy(),
        np.full(n, 1.7),
    ]


QUANTILES = [kernels.quantile, support.quantile]


@pytest.mark.parametrize("quantile", QUANTILES, ids=["compiled", "numpy partition"])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 0.95, 1.0])
def test_quantile_equals_numpy_to_the_bit(quantile, q):
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 5, 8, 9, 10, 11, 17, 100, 101, 1000, 4097]:
        for values in _samples(rng, n):
            expected = np.quantile(values, q)
            got = quantile(values.copy(), q)
            assert np.float64(got).tobytes() == np.float64(expected).tobytes(), (n, q)


@pytest.mark.parametrize("quantile", QUANTILES, ids=["compiled", "numpy partition"])
def test_quantile_with_nan_is_nan_as_in_numpy(quantile):
    rng = np.random.default_rng(3)
    for n in [1, 2, 5, 10, 100]:
        values = rng.lognormal(0.0, 0.5, n)
        values[rng.integers(n)] = np.nan
        assert np.isnan(np.quantile(values, 0.9))
        assert np.isnan(quantile(values.copy(), 0.9))


@pytest.mark.parametrize("quantile", QUANTILES, ids=["compiled", "numpy partition"])
def test_quantile_differs_when_the_order_statistics_differ(quantile):
    """The check above can fail: the 90th percentile of 0..10 is 9, not the 80th's 8."""
    values = np.arange(11.0)
    assert quantile(values.copy(), 0.9) == 9.0
    assert quantile(values.copy(), 0.8) == 8.0


def test_frontiers_equal_numpy_quantiles_per_product():
    rng = np.random.default_rng(11)
    # from 400 firms a product (2000 firms here), numpy takes the quantile
    for n_firms in [0, 1, 7, 75, 2000, 9000]:
        n_clusters, n_products = 12, 5
        cluster_product = rng.integers(0, n_products - 1, n_clusters)  # product 4 has no firms
        cluster = rng.integers(0, n_clusters, n_firms)
        productivity = np.round(rng.lognormal(0.0, 0.6, n_firms), 2)
        size, *found = kernels.sizes_and_frontiers(
            cluster, cluster_product, productivity, n_products
        )
        frontier = support._numpy_quantiles(*found)
        assert np.array_equal(size, np.bincount(cluster, minlength=n_clusters))
        product = cluster_product[cluster]
        for p in range(n_products):
            mine = productivity[product == p]
            expected = np.quantile(mine, 0.9) if len(mine) else 1.0
            assert np.float64(frontier[p]).tobytes() == np.float64(expected).tobytes()
        again = kernels.frontiers(cluster, cluster_product, productivity, size, n_products)
        assert np.array_equal(support._numpy_quantiles(*again), frontier)


def _z(values: np.ndarray) -> np.ndarray:
    """The planner's z-score as numpy computes it (the rule the kernels reproduce)."""
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def test_standardised_equals_numpy_z_scores_to_the_bit():
    rng = np.random.default_rng(5)
    for n in [1, 2, 3, 7, 8, 9, 25, 100, 129, 1000, 3500]:
        for values in _samples(rng, n):
            assert _bits(kernels.standardised(values)) == _bits(_z(values)), n


def test_planning_scores_equal_numpy_to_the_bit():
    rng = np.random.default_rng(9)
    for n_clusters in [1, 2, 5, 100, 3500]:
        size = rng.integers(0, 400, n_clusters)
        tradition = rng.random(n_clusters)
        reach = rng.integers(0, 50, (n_clusters, 3)).astype(float)
        reach[0] = 0.0  # a cluster that reaches no segment
        growth = rng.normal(0.0, 0.02, (6, 3))
        product = rng.integers(0, 6, n_clusters)
        niche = rng.normal(0.0, 0.01, n_clusters)
        noise = rng.standard_normal(n_clusters)
        q, attention = 0.37, 0.8
        potential = _z(_z(np.log1p(size)) + _z(tradition))
        assert _bits(kernels.potential(np.log1p(size), tradition)) == _bits(potential)
        shares = reach / np.maximum(reach.sum(axis=1, keepdims=True), 1e-12)
        truth = (shares * growth[product]).sum(axis=1) + niche
        assert _bits(kernels.opportunity(reach, growth, product, niche)) == _bits(truth)
        estimate = q * _z(truth) + np.sqrt(1 - q**2) * noise
        expected = (1 - attention) * potential + attention * estimate
        got = kernels.selection_scores(
            np.log1p(size), tradition, truth, noise, q, float(np.sqrt(1 - q**2)), attention
        )
        assert _bits(got) == _bits(expected)


def test_monitoring_equals_numpy_to_the_bit():
    rng = np.random.default_rng(13)
    checked = 0
    for n_clusters in [3, 4, 5, 8, 12, 30, 100, 500]:
        since_plan = np.where(rng.random(n_clusters) < 0.5, rng.random(n_clusters), 0.0)
        at_plan = rng.lognormal(0.0, 0.3, n_clusters)
        at_plan[rng.random(n_clusters) < 0.1] = np.nan
        value_added = rng.lognormal(3.0, 0.5, n_clusters)
        workers = rng.integers(0, 50, n_clusters).astype(float)
        capacity = rng.random(4)
        region = rng.integers(0, 4, n_clusters)
        draws = rng.random(n_clusters)
        weight = rng.lognormal(0.0, 0.2, n_clusters)
        monitoring, rate = 0.8, 0.5
        # numpy's rule (government.monitor before it was compiled)
        supported = since_plan > 0
        observed = supported & (draws < monitoring * capacity[region]) & ~np.isnan(at_plan)
        if observed.sum() < 2:  # monitoring stops there (government.monitor)
            continue
        checked += 1
        performance = value_added / np.maximum(workers, 1e-9) / np.maximum(at_plan, 1e-9) - 1
        score = np.clip(_z(performance[observed]), -2, 2)
        expected = weight.copy()
        expected[observed] *= np.exp(rate * score)
        expected = np.clip(expected / expected[supported].mean(), 0.05, 20)
        slots, logs = kernels.monitoring_scores(
            since_plan, at_plan, value_added, workers, capacity, region, monitoring, rate, draws
        )
        assert np.array_equal(slots, np.flatnonzero(observed))
        got = kernels.reweigh(weight.copy(), slots, np.exp(logs), since_plan)
        assert _bits(got) == _bits(expected)
    assert checked >= 3
