"""The compiled loop behind ``sim.model.firm_state``: closing the holes exits leave in the
firm columns (``FirmState.compact``), one call per column, whatever its dtype."""

from __future__ import annotations

import numpy as np

from sim.model.kernels.compiled import kernel


@kernel
def close_holes(
    buffer: np.ndarray, holes: np.ndarray, movers: np.ndarray, end: int, size: int, fill
) -> None:
    """Move rows ``movers`` into rows ``holes`` and refill rows ``end .. size - 1``."""
    for k in range(len(holes)):
        buffer[holes[k]] = buffer[movers[k]]
    for i in range(end, size):
        buffer[i] = fill
