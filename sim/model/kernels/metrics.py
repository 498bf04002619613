"""Compiled per-firm loops behind ``sim.model.metrics``: the per-cluster sums every quarter's
outcomes are computed from, in one pass over the firms.

Sums per cluster add firms in slot order, as ``np.bincount`` does; stage and segment codes are
arguments, not globals (``sim.model.kernels.compiled`` says why the results stay bit-for-bit).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import floor_at, kernel
from sim.scenario.codes import APPOINTED, EMERGENT


@kernel
def cluster_totals(
    cluster,
    stage,
    segment,
    workers,
    sales,
    value_added,
    units,
    local_inputs,
    productivity,
    n,
    upstream,
    producer,
    export,
    small_workers,
):
    """Per-cluster sums of the firm columns outcomes need, and the two per-firm extracts the
    aggregate row needs, in one pass over the firms (each column is read once a quarter).

    Each sum adds firms in slot order, as ``np.bincount`` does, so the totals are bit-for-bit
    the bincounts'; a firm outside a sum's selection adds 0.0, as the masked column did. A
    cluster's nine running sums sit side by side (one row of ``sums``), so a firm updates one
    or two cache lines, not nine scattered ones. The extracts: productivity floored at 1e-9
    (``np.maximum``, for numpy's log), and ``value_added[(stage == producer) & (workers <
    small_workers)]`` in slot order (numpy then sums it pairwise, as before). Stage and segment
    codes are arguments, not globals: numba's disk cache would not see them change.
    """
    sums = np.zeros((n, 9))
    floored = np.empty(len(cluster))
    small_va = np.empty(len(cluster))
    small = 0
    for i in range(len(cluster)):
        row = sums[cluster[i]]
        final = sales[i] if stage[i] != upstream else 0.0
        row[0] += 1.0
        row[1] += workers[i]
        row[2] += sales[i]
        row[3] += final
        row[4] += final if segment[i] == export else 0.0
        row[5] += value_added[i]
        row[6] += units[i] if stage[i] == producer else 0.0
        row[7] += local_inputs[i]
        row[8] += productivity[i]
        floored[i] = 1e-9 if productivity[i] < 1e-9 else productivity[i]  # NaN stays NaN
        small_va[small] = value_added[i]
        small += (stage[i] == producer) & (workers[i] < small_workers)  # branch-free
    totals = np.empty((9, n))  # one contiguous row per sum
    for k in range(n):
        for j in range(9):
            totals[j, k] = sums[k, j]
    return totals, floored, small_va[:small]


@kernel
def cluster_ratios(totals, ties, input_coefficient):
    """The per-cluster ratios from ``cluster_totals``' table and the ties counted per cluster,
    each as its numpy expression computed it (the same division, floors as ``np.maximum``):
    rows value added per worker, export share, mean productivity, vertical linkage (local
    inputs over producers' units x ``input_coefficient``), horizontal density (ties over
    possible pairs)."""
    n = totals.shape[1]
    ratios = np.empty((5, n))
    for c in range(n):
        firms, employment, final_sales = totals[0, c], totals[1, c], totals[3, c]
        input_units = totals[6, c] * input_coefficient
        pairs = firms * (firms - 1) / 2
        ratios[0, c] = totals[5, c] / floor_at(employment, 1e-9)
        ratios[1, c] = totals[4, c] / floor_at(final_sales, 1e-9)
        ratios[2, c] = totals[8, c] / floor_at(firms, 1.0)
        ratios[3, c] = totals[7, c] / floor_at(input_units, 1e-9)
        ratios[4, c] = ties[c] / floor_at(pairs, 1.0)
    return ratios


@kernel
def classify(va_history, value_added, coordinator, density, joint_action, export_share, linkage):
    """Each cluster's type (0 dormant, 1 active, 2 dynamic, 3 advanced; the highest that
    holds), after ``value_added`` enters the rolling ``va_history`` (the oldest quarter drops
    out): growth over the window, associations, ties, exports, local linkage."""
    quarters, n = va_history.shape
    kind = np.zeros(n, dtype=np.int8)
    for c in range(n):
        for q in range(quarters - 1, 0, -1):
            va_history[q, c] = va_history[q - 1, c]
        va_history[0, c] = value_added[c]
        oldest = va_history[quarters - 1, c]
        growth = value_added[c] / floor_at(oldest, 1e-9) - 1 if oldest > 0 else 0.0
        active = (coordinator[c] > 0) | (density[c] >= 0.05) | (joint_action[c] >= 0.1)
        dynamic = (growth >= 0.04) | (export_share[c] >= 0.15)
        advanced = (export_share[c] >= 0.25) & (linkage[c] >= 0.4) & (joint_action[c] >= 0.2)
        kind[c] = 3 if advanced else 2 if dynamic else 1 if active else 0
    return kind


@kernel
def count_per_cluster(cluster, slots, n):
    """How many of ``slots`` (firm slots, repeats counted) lie in each cluster, as floats."""
    counts = np.zeros(n)
    for slot in slots:
        counts[cluster[slot]] += 1.0
    return counts


# numpy's float64 ``sum`` (``add.reduce``) adds pairwise (``pairwise_sum`` in
# numpy/_core/src/umath/loops_utils.h.src): runs shorter than 8 one by one from 0.0, runs up to
# PAIRWISE_BLOCK in 8 interleaved accumulators, longer ones split in two halves (the first a
# multiple of 8), left before right. Same order, same roundings: the compiled sums below are
# numpy's, bit for bit.
PAIRWISE_BLOCK = 128


@kernel
def _block_sum(values, start, n):
    """numpy's pairwise sum of a run of at most PAIRWISE_BLOCK values (no split)."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    # numpy's eight accumulators r[0..7] as scalars, each fed from an 8-value view by constant
    # indices: no array to allocate per run, and LLVM vectorises the loop as numpy's C is
    run = values[start : start + n]
    r0, r1, r2, r3 = run[0], run[1], run[2], run[3]
    r4, r5, r6, r7 = run[4], run[5], run[6], run[7]
    end = n - n % 8
    for i in range(8, end, 8):
        eight = run[i : i + 8]
        r0 += eight[0]
        r1 += eight[1]
        r2 += eight[2]
        r3 += eight[3]
        r4 += eight[4]
        r5 += eight[5]
        r6 += eight[6]
        r7 += eight[7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(end, n):
        total += run[i]
    return total


@kernel
def _pairwise(values, start, n):
    """numpy's ``pairwise_sum`` of ``values[start:start + n]``, step for step.

    numpy recurses into halves; here an explicit stack of runs does it (numba cannot load a
    recursive function from its disk cache: numba issue 6061). A run longer than the block
    pushes its left half; a finished run hands its sum to its parent, which then either keeps
    it and pushes its right half, or adds it to the left half's sum and finishes in turn.
    """
    run_start = np.empty(64, np.int64)  # a run at depth d halves a run at depth d - 1
    run_length = np.empty(64, np.int64)
    left_sum = np.empty(64)
    left_done = np.zeros(64, np.bool_)
    depth = 0
    run_start[0], run_length[0] = start, n
    while True:
        length = run_length[depth]
        if length > PAIRWISE_BLOCK:
            half = length // 2
            half -= half % 8
            depth += 1
            run_start[depth], run_length[depth], left_done[depth] = (
                run_start[depth - 1],
                half,
                False,
            )
            continue
        total = _block_sum(values, run_start[depth], length)
        while True:  # hand the finished run's sum up
            depth -= 1
            if depth < 0:
                return total
            if not left_done[depth]:
                left_sum[depth], left_done[depth] = total, True
                half = run_length[depth] // 2
                half -= half % 8
                depth += 1
                run_start[depth] = run_start[depth - 1] + half
                run_length[depth] = run_length[depth - 1] - half
                left_done[depth] = False
                break
            total = left_sum[depth] + total


@kernel
def pairwise_sum(values):
    """``np.sum(values)`` of a 1-D float64 array, bit for bit: numpy's reduction starts from
    its identity, 0.0, and adds the whole array's pairwise sum to it."""
    return 0.0 + _pairwise(values, 0, len(values))


@kernel
def pairwise_std(values):
    """``values.std()`` of a 1-D float64 array, bit for bit: numpy's ``_var`` takes the mean
    (pairwise sum over n), squares the deviations, sums them pairwise and divides by n."""
    n = len(values)
    mean = pairwise_sum(values) / n
    squares = np.empty(n)
    for i in range(n):
        deviation = values[i] - mean
        squares[i] = deviation * deviation
    return np.sqrt(pairwise_sum(squares) / n)


@kernel
def gini(values):
    """``sim.model.metrics.gini`` compiled, bit for bit: the sorted values' pairwise sums."""
    ordered = np.sort(values)
    n = len(ordered)
    total = pairwise_sum(ordered)
    if n == 0 or total <= 0:
        return 0.0
    weighted = np.empty(n)
    for i in range(n):
        weighted[i] = (i + 1) * ordered[i]
    return (2 * pairwise_sum(weighted) / (n * total)) - (n + 1) / n


@kernel
def market_totals(inside_sales, outside_sales, demand):
    """The economy's market totals from the [product, segment] tables: cluster firms' sales,
    outside competitors' sales, effective demand, and per segment the demand-weighted share
    (sum over products of share x demand, share floored as ``Market.market_share`` floors
    demand) and the segment's demand, each summed as numpy sums it (pairwise, over the
    C-ordered table, or down one segment's column)."""
    products, segments = demand.shape
    weighted_share = np.empty(segments)
    segment_demand = np.empty(segments)
    column = np.empty(products)
    for s in range(segments):
        for p in range(products):
            share = inside_sales[p, s] / floor_at(demand[p, s], 1e-12)
            column[p] = share * demand[p, s]
        weighted_share[s] = pairwise_sum(column)
        for p in range(products):
            column[p] = demand[p, s]
        segment_demand[s] = pairwise_sum(column)
    return (
        pairwise_sum(inside_sales.ravel()),
        pairwise_sum(outside_sales.ravel()),
        pairwise_sum(demand.ravel()),
        weighted_share,
        segment_demand,
    )


class EconomyTotals(NamedTuple):
    """What the aggregate row is made of, each summed (or counted) as numpy did it."""

    employment: float
    sales: float
    final_sales: float
    export_sales: float
    value_added: float
    input_units: float
    local_inputs: float
    productivity: float  # sum of cluster totals of productivity
    firms: float
    pairs: float  # possible horizontal ties, n (n - 1) / 2 summed over clusters
    joint_action: float  # joint action weighted by firms, summed over clusters
    small_producer_va: float
    log_productivity_spread: float  # std over firms (0 when there are none)
    quality_mean: float  # over firms (0 when there are none)
    founders_alive: int
    members: int
    coordinators_emergent: int
    coordinators_appointed: int
    support: float
    supported_clusters: int
    supported_ever: int
    support_gini: float


@kernel
def economy_totals(
    totals,
    input_coefficient,
    small_producer_va,
    firm_log_productivity,
    firms,
    clusters,
    founder_max_uid,
):
    """Every sum and count the aggregate row needs, each bit for bit as its numpy call (sums
    pairwise, ``mean``/``std`` as numpy's), in one call instead of ~40 numpy calls a quarter.

    ``totals``: ``cluster_totals``'s table (rows: firms, employment, sales, final sales,
    export sales, value added, producer units, local inputs, productivity); ``firms``: the
    firm columns ``alive``, ``uid``, ``member``, ``quality`` (``FirmCounts``); ``clusters``:
    ``joint_action``, ``coordinator``, ``support_step``, ``support_total`` (``ClusterCounts``).
    """
    n = totals.shape[1]
    input_units = np.empty(n)
    pairs = np.empty(n)
    weighted = np.empty(n)
    for c in range(n):
        input_units[c] = totals[6, c] * input_coefficient
        pairs[c] = totals[0, c] * (totals[0, c] - 1) / 2
        weighted[c] = clusters.joint_action[c] * totals[0, c]
    founders_alive = members = 0
    for i in range(len(firms.alive)):
        founders_alive += firms.alive[i] & (firms.uid[i] <= founder_max_uid)
        members += firms.member[i]
    emergent = appointed = supported = supported_ever = 0
    for c in range(len(clusters.coordinator)):
        emergent += clusters.coordinator[c] == EMERGENT
        appointed += clusters.coordinator[c] == APPOINTED
        supported += clusters.support_step[c] > 0
        supported_ever += clusters.support_total[c] > 0
    spread = quality_mean = 0.0
    if len(firms.quality):  # (numpy's mean and std of nothing are NaN; the row says 0)
        spread = pairwise_std(firm_log_productivity)
        quality_mean = pairwise_sum(firms.quality) / len(firms.quality)
    return EconomyTotals(
        employment=pairwise_sum(totals[1]),
        sales=pairwise_sum(totals[2]),
        final_sales=pairwise_sum(totals[3]),
        export_sales=pairwise_sum(totals[4]),
        value_added=pairwise_sum(totals[5]),
        input_units=pairwise_sum(input_units),
        local_inputs=pairwise_sum(totals[7]),
        productivity=pairwise_sum(totals[8]),
        firms=pairwise_sum(totals[0]),
        pairs=pairwise_sum(pairs),
        joint_action=pairwise_sum(weighted),
        small_producer_va=pairwise_sum(small_producer_va),
        log_productivity_spread=spread,
        quality_mean=quality_mean,
        founders_alive=founders_alive,
        members=members,
        coordinators_emergent=emergent,
        coordinators_appointed=appointed,
        support=pairwise_sum(clusters.support_step),
        supported_clusters=supported,
        supported_ever=supported_ever,
        support_gini=gini(clusters.support_total),
    )


class FirmCounts(NamedTuple):
    """Firm columns ``economy_totals`` counts and averages."""

    alive: np.ndarray
    uid: np.ndarray
    member: np.ndarray
    quality: np.ndarray


class ClusterCounts(NamedTuple):
    """Cluster columns ``economy_totals`` counts and sums."""

    joint_action: np.ndarray
    coordinator: np.ndarray
    support_step: np.ndarray
    support_total: np.ndarray
