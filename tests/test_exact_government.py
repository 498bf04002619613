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
