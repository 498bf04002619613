"""Compiled replacements of numpy calls are exact: each kernel that stands in for a numpy
reduction or a numpy draw gives numpy's result bit for bit, on many inputs and lengths (the
fingerprint test checks whole runs; these tests check each claim on its own)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.kernels import firms as firm_kernels
from sim.model.kernels import metrics as kernels
from sim.model.kernels import sums
from sim.model.kernels.compiled import clip_to
from sim.model.kernels.firms import choose_by_shares
from sim.model.metrics import gini

# shorter than numpy's 8 accumulators, within one 128-value block, and split into halves
# (odd lengths, multiples of 8 and their neighbours, beyond numpy's 8192-value buffer)
LENGTHS = [*range(0, 300), 383, 384, 385, 511, 512, 513, 1000, 4097, 8191, 8192, 8193, 100_001]


def _values(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    """Values whose sums round differently when added in another order."""
    if kind == 0:
        return rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 9, n)
    if kind == 1:
        return rng.lognormal(0.0, 3.0, n)
    return -np.zeros(n)  # negative zeros: numpy's sum starts at +0.0


def _same(a: float, b: float) -> bool:
    """Equal to the bit (NaN with NaN, and the sign of a zero)."""
    return np.float64(a).tobytes() == np.float64(b).tobytes()


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_pairwise_sum_is_numpys_sum(kind: int) -> None:
    rng = np.random.default_rng(kind)
    for n in LENGTHS:
        values = _values(rng, n, kind)
        assert _same(sums.pairwise_sum(values), values.sum()), n
        strided = values[::3]
        assert _same(sums.pairwise_sum(strided), strided.sum()), n


def test_pairwise_sum_of_a_table_is_numpys_sum_of_the_table() -> None:
    rng = np.random.default_rng(3)
    for rows in (1, 2, 5, 17, 40):
        for columns in (1, 3, 7, 9):
            table = _values(rng, rows * columns, 0).reshape(rows, columns)
            assert _same(sums.pairwise_sum(table.ravel()), table.sum())
            for c in range(columns):
                assert _same(sums.pairwise_sum(table[:, c]), table[:, c].sum())


def test_pairwise_std_is_numpys_std() -> None:
    rng = np.random.default_rng(4)
    for n in LENGTHS[1:]:
        values = _values(rng, n, n % 2)
        assert _same(sums.pairwise_std(values), values.std()), n


def test_compiled_gini_is_the_gini() -> None:
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 7, 8, 100, 129, 1000):
        values = rng.lognormal(0.0, 2.0, n) * (rng.random(n) < 0.6)
        assert _same(kernels.gini(values), gini(values)), n
    assert kernels.gini(np.zeros(5)) == 0.0


def test_market_totals_are_numpys_sums() -> None:
    rng = np.random.default_rng(6)
    inside, outside = rng.lognormal(0, 2, (7, 3)), rng.lognormal(0, 2, (7, 3))
    demand = rng.lognormal(0, 2, (7, 3))
    demand[2, 1] = 0.0  # floored as Market.market_share floors it
    total_inside, total_outside, total_demand, weighted, by_segment = kernels.market_totals(
        inside, outside, demand
    )
    share = inside / np.maximum(demand, 1e-12)
    assert _same(total_inside, inside.sum())
    assert _same(total_outside, outside.sum())
    assert _same(total_demand, demand.sum())
    for s in range(3):
        assert _same(weighted[s], (share[:, s] * demand[:, s]).sum())
        assert _same(by_segment[s], demand[:, s].sum())


def test_clip_to_is_numpys_clip() -> None:
    edges = [-np.inf, -1.0, -0.0, 0.0, 0.01, 0.5, 0.95, 0.99, 1.0, np.inf, np.nan]
    values = np.array(edges + list(np.random.default_rng(7).normal(0.5, 1.0, 200)))
    for low, high in ((0.0, 1.0), (0.01, 0.95), (0.01, 0.99), (-0.0, 0.0)):
        clipped = np.clip(values, low, high)
        for x, expected in zip(values, clipped, strict=True):
            assert _same(clip_to(x, low, high), expected), (x, low, high)


@pytest.mark.parametrize("shares", [[0.2, 0.5, 0.3], [0.1, 0.0, 0.9], [1 / 3, 1 / 3, 1 / 3]])
def test_choose_by_shares_is_what_generator_choice_picks(shares: list[float]) -> None:
    """``rng.choice(k, size=n, p=shares)`` draws ``rng.random(n)`` and maps each uniform
    through the shares: the same stream, the same picks, the generator left in the same state."""
    for seed in range(5):
        for n in (0, 1, 7, 100, 5000):
            picked = np.random.default_rng(seed).choice(3, size=n, p=shares)
            rng = np.random.default_rng(seed)
            uniforms = rng.random(n)
            ours = [choose_by_shares(u, np.asarray(shares, dtype=float)) for u in uniforms]
            assert np.array_equal(picked, ours)
            after = np.random.default_rng(seed)
            after.choice(3, size=n, p=shares)
            assert after.random() == rng.random()


def test_one_block_of_normals_is_four_calls_of_normals() -> None:
    for n in (0, 1, 9, 1000):
        rows = np.random.default_rng(n).standard_normal((4, n))
        rng = np.random.default_rng(n)
        calls = [rng.standard_normal(n) for _ in range(4)]
        assert np.array_equal(rows, np.array(calls).reshape(4, n))


def test_expected_entrants_is_the_numpy_expression() -> None:
    rng = np.random.default_rng(8)
    n_clusters, n = 40, 3000
    cluster = rng.integers(-1, n_clusters, n).astype(np.int32)  # -1: empty slots
    profit = rng.normal(0.0, 3.0, n)
    sales = rng.lognormal(0.0, 1.0, n) * (rng.random(n) < 0.9)
    profit[:50] = -0.0
    counts = np.bincount(cluster[cluster >= 0], minlength=n_clusters)
    total_profit = np.bincount(
        cluster[cluster >= 0], weights=profit[cluster >= 0], minlength=n_clusters
    )
    total_sales = np.bincount(
        cluster[cluster >= 0], weights=sales[cluster >= 0], minlength=n_clusters
    )
    total_sales[:3] = 0.0  # clusters that sold nothing
    sales[np.isin(cluster, [0, 1, 2])] = 0.0
    margin = np.where(total_sales > 0, total_profit / np.maximum(total_sales, 1e-12), 0.0)
    expected = 0.03 * counts * np.clip(margin / 0.1, 0.0, 1.0)
    ours = firm_kernels.expected_entrants(cluster, profit, sales, n_clusters, 0.03)
    assert ours.tobytes() == expected.tobytes()


def test_cluster_ratios_and_types_are_the_numpy_expressions() -> None:
    rng = np.random.default_rng(9)
    n = 60
    totals = rng.lognormal(0.0, 2.0, (9, n)) * (rng.random((9, n)) < 0.8)  # zeros too
    totals[0] = rng.integers(0, 30, n)  # firms
    ties = rng.integers(0, 40, n).astype(float)
    ratios = kernels.cluster_ratios(totals, ties, 0.7)
    firms, employment, final_sales, export_sales = totals[0], totals[1], totals[3], totals[4]
    value_added, producer_units, local_inputs, productivity = totals[5:9]
    input_units = producer_units * 0.7
    expected = [
        value_added / np.maximum(employment, 1e-9),
        export_sales / np.maximum(final_sales, 1e-9),
        productivity / np.maximum(firms, 1),
        local_inputs / np.maximum(input_units, 1e-9),
        ties / np.maximum(firms * (firms - 1) / 2, 1),
    ]
    for ours, theirs in zip(ratios, expected, strict=True):
        assert ours.tobytes() == theirs.tobytes()

    history = rng.lognormal(0.0, 1.0, (4, n)) * (rng.random((4, n)) < 0.8)
    coordinator = rng.integers(0, 3, n).astype(np.int8)
    joint_action = rng.random(n) * 0.3
    export_share, linkage, density = rng.random(n) * 0.4, rng.random(n) * 0.8, ratios[4] / 20
    reference = history.copy()
    kind = kernels.classify(
        history, value_added, coordinator, density, joint_action, export_share, linkage
    )
    reference[1:] = reference[:-1]
    reference[0] = value_added
    oldest = reference[-1]
    growth = np.where(oldest > 0, value_added / np.maximum(oldest, 1e-9) - 1, 0.0)
    expected_kind = np.zeros(n, dtype=np.int8)
    expected_kind[(coordinator > 0) | (density >= 0.05) | (joint_action >= 0.1)] = 1
    expected_kind[(growth >= 0.04) | (export_share >= 0.15)] = 2
    expected_kind[(export_share >= 0.25) & (linkage >= 0.4) & (joint_action >= 0.2)] = 3
    assert history.tobytes() == reference.tobytes()
    assert np.array_equal(kind, expected_kind)
    assert len(set(kind.tolist())) == 4  # every type occurs: the test sees each rule


def _fill_requests_in_numpy(pot: float, weight: np.ndarray, request: np.ndarray) -> np.ndarray:
    """The water-filling loop as numpy ran it (``government.fill_requests`` before its kernel)."""
    allocation = np.zeros(len(request))
    demand = weight * request
    waiting = demand > 0
    left = pot
    while left > 0 and waiting.any():
        offer = np.where(waiting, left * demand / demand[waiting].sum(), 0.0)
        full = waiting & (offer >= request)
        if not full.any():
            allocation += offer
            break
        allocation[full] = request[full]
        left -= request[full].sum()
        waiting &= ~full
    return allocation


def test_compiled_water_filling_is_the_numpy_loop() -> None:
    from sim.model.kernels.support import fill_requests

    rng = np.random.default_rng(10)
    rounds_seen = set()
    for case in range(400):
        n = int(rng.integers(0, 300))
        weight = rng.lognormal(0.0, 1.0, n) * (rng.random(n) < 0.8)
        request = rng.lognormal(0.0, 2.0, n) * (rng.random(n) < 0.7)
        pot = float(rng.lognormal(0.0, 2.0) * max(request.sum(), 1.0) * rng.random())
        ours = fill_requests(pot, weight, request)
        theirs = _fill_requests_in_numpy(pot, weight, request)
        assert ours.tobytes() == theirs.tobytes(), case
        rounds_seen.add(bool(np.any((request > 0) & (theirs == request))))
    assert rounds_seen == {False, True}  # some cases capped applicants, some capped none


def test_adding_ties_in_compiled_calls_is_the_numpy_way() -> None:
    """``HorizontalTies.add`` as numpy did it (partners of -1 dropped first, as the caller did)
    and as it does now give the same ties in the same order."""
    from sim.model.kernels.ties import fresh_ties
    from sim.model.ties import HorizontalTies

    rng = np.random.default_rng(11)
    for case in range(200):
        ours, theirs = HorizontalTies(), HorizontalTies()
        for _ in range(3):
            n, slots = int(rng.integers(0, 60)), int(rng.integers(2, 80))
            seekers = rng.integers(0, slots, n)
            partner = rng.integers(-1, slots, n)  # -1: no partner found; self-ties and repeats
            ours.add(seekers, partner)
            ok = partner >= 0
            a, b = seekers[ok], partner[ok]
            keep = a != b
            lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            if len(lo):
                base = int(max(hi.max(), theirs.b.max() if len(theirs.b) else 0)) + 1
                lo, hi = fresh_ties(theirs.a, theirs.b, np.sort(lo * base + hi), base)
                theirs.a = np.concatenate((theirs.a, lo))
                theirs.b = np.concatenate((theirs.b, hi))
            assert np.array_equal(ours.a, theirs.a), case
            assert np.array_equal(ours.b, theirs.b), case
            assert ours.a.dtype == theirs.a.dtype and ours.b.dtype == theirs.b.dtype
