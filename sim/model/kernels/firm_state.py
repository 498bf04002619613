"""The compiled loops behind ``sim.model.firm_state``: closing the holes exits leave in the
firm columns (``FirmState.compact``), every dtype's buffer (its columns are the rows of one 2-D
buffer) in one call."""

from __future__ import annotations

import numpy as np
from numba import literal_unroll

from sim.model.kernels.compiled import kernel


@kernel
def close_holes(
    buffers: np.ndarray, holes: np.ndarray, movers: np.ndarray, end: int, size: int, fills
) -> None:
    """In every row of ``buffers``: move columns ``movers`` into columns ``holes`` and refill
    columns ``end .. size - 1`` with the row's ``fills``."""
    for j in range(buffers.shape[0]):
        row = buffers[j]
        for k in range(len(holes)):
            row[holes[k]] = row[movers[k]]
        for i in range(end, size):
            row[i] = fills[j]


@kernel
def compact_groups(groups, alive: np.ndarray, end: int):
    """``FirmState.compact`` in one call for every dtype's buffer: the holes below ``end`` (the
    live firms' count) in ascending order, the live slots at or past it in ascending order
    (``np.flatnonzero`` of each), each mover into its hole in every row (``close_holes``);
    returns (movers, holes). ``groups`` is a tuple of (buffer, fills) pairs, one per dtype."""
    size = len(alive)
    n_holes = 0
    for i in range(end):
        n_holes += not alive[i]
    holes = np.empty(n_holes, dtype=np.int64)
    movers = np.empty(n_holes, dtype=np.int64)
    h = 0
    for i in range(end):
        if not alive[i]:
            holes[h] = i
            h += 1
    m = 0
    for i in range(end, size):
        if alive[i]:
            movers[m] = i
            m += 1
    _close_holes_of_every_group(groups, holes, movers, end, size)
    return movers, holes


@kernel
def _close_holes_of_every_group(groups, holes, movers, end, size):
    """``close_holes`` in each (buffer, fills) pair of ``groups`` (a loop of its own: under
    Python 3.12 numba cannot type a ``literal_unroll`` loop after other loops over ``end``)."""
    for group in literal_unroll(groups):
        close_holes(group[0], holes, movers, end, size, group[1])
