"""Compiled per-firm loops behind ``sim.model.metrics``: the per-cluster sums every quarter's
outcomes are computed from, in one pass over the firms.

Sums per cluster add firms in slot order, as ``np.bincount`` does; stage and segment codes are
arguments, not globals (``sim.model.kernels.compiled`` says why the results stay bit-for-bit).
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels.compiled import kernel


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
    totals = [np.empty(n) for _ in range(9)]  # one contiguous array per sum
    for k in range(n):
        for j in range(9):
            totals[j][k] = sums[k, j]
    return totals, floored, small_va[:small]


@kernel
def count_per_cluster(cluster, slots, n):
    """How many of ``slots`` (firm slots, repeats counted) lie in each cluster, as floats."""
    counts = np.zeros(n)
    for slot in slots:
        counts[cluster[slot]] += 1.0
    return counts
