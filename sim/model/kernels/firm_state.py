"""The compiled loop behind ``sim.model.firm_state``: closing the holes exits leave in the
firm columns (``FirmState.compact``), one call per dtype: its columns are the rows of one
2-D buffer."""

from __future__ import annotations

import numpy as np

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
