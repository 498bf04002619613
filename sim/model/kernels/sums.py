"""numpy's float64 sums, compiled: the same additions in the same order, so a kernel that
sums as numpy sums gives numpy's result to the last bit (``tests/test_exact_kernels.py``).

numpy's ``sum`` (``add.reduce``) adds pairwise (``pairwise_sum`` in
numpy/_core/src/umath/loops_utils.h.src): runs shorter than 8 one by one from 0.0, runs up to
PAIRWISE_BLOCK in 8 interleaved accumulators, longer ones split in two halves (the first a
multiple of 8), left before right. A kernel that needs a total numpy used to take (an outcome,
a pot shared out) calls ``pairwise_sum`` instead of leaving the kernel for one numpy call.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels.compiled import kernel

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
