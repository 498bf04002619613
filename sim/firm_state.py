"""Struct-of-arrays storage for firms: the hot path reads and writes whole columns.

Slots are reused: an exiting firm frees its slot and an entrant fills a free one, so arrays only
grow (doubling) when the population outgrows its capacity, never on every entry or exit.
"""

from __future__ import annotations

import numpy as np

# column name -> dtype, fill value for a fresh or freed slot
FIRM_COLUMNS: dict[str, tuple[type, float]] = {
    "alive": (np.bool_, False),
    "cluster": (np.int32, -1),
    "stage": (np.int8, 0),
    "workers": (np.float64, 0.0),
    "productivity": (np.float64, 0.0),
    "quality": (np.float64, 0.0),
    "cash": (np.float64, 0.0),
    "knowledge": (np.float64, 0.0),
    "absorptive": (np.float64, 0.0),
    "age": (np.int32, 0),
    "member": (np.bool_, False),
    "loss_streak": (np.int16, 0),
    "segment": (np.int8, 0),
    "visibility": (np.float64, 0.0),
    "supplier": (np.int32, -1),
    "trader": (np.int32, -1),
    "output_capacity": (np.float64, 0.0),
    "units": (np.float64, 0.0),
    "sales": (np.float64, 0.0),
    "materials": (np.float64, 0.0),
    "local_inputs": (np.float64, 0.0),
    "value_added": (np.float64, 0.0),
    "profit": (np.float64, 0.0),
    "utilisation": (np.float64, 0.0),
    "support": (np.float64, 0.0),
    "support_total": (np.float64, 0.0),
    "uid": (np.int64, -1),
}


class FirmState:
    """All numeric firm state. ``alive`` marks occupied slots; dead slots hold fill values."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 16)
        for name, (dtype, fill) in FIRM_COLUMNS.items():
            setattr(self, name, np.full(self.capacity, fill, dtype=dtype))
        # free slots as a stack (top = end), lowest slot on top so new firms fill from the front
        self._free = np.arange(self.capacity - 1, -1, -1, dtype=np.int64)
        self._n_free = self.capacity
        self.generation = 0  # bumps whenever slots are allocated or freed

    # slot bookkeeping -------------------------------------------------------------------------
    @property
    def n_alive(self) -> int:
        return self.capacity - self._n_free

    def alive_slots(self) -> np.ndarray:
        return np.flatnonzero(self.alive)

    def allocate(self, count: int) -> np.ndarray:
        """Reserve ``count`` slots (growing the arrays if needed) and mark them alive."""
        if count > self._n_free:
            self._grow(max(self.capacity * 2, self.n_alive + count))
        top = self._n_free
        slots = self._free[top - count : top][::-1].copy()  # pop order: top of stack first
        self._n_free = top - count
        self.alive[slots] = True
        self.generation += 1
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Free slots of exiting firms and reset them; ties pointing at them are cut by callers."""
        if len(slots) == 0:
            return
        for name, (_, fill) in FIRM_COLUMNS.items():
            getattr(self, name)[slots] = fill
        top = self._n_free
        self._free[top : top + len(slots)] = slots
        self._n_free = top + len(slots)
        self.generation += 1

    def _grow(self, new_capacity: int) -> None:
        old = self.capacity
        for name, (dtype, fill) in FIRM_COLUMNS.items():
            column = np.full(new_capacity, fill, dtype=dtype)
            column[:old] = getattr(self, name)
            setattr(self, name, column)
        # new slots go under the existing free ones, as the list version did
        fresh = np.arange(new_capacity - 1, old - 1, -1, dtype=np.int64)
        free = np.empty(new_capacity, dtype=np.int64)
        free[: len(fresh)] = fresh
        free[len(fresh) : len(fresh) + self._n_free] = self._free[: self._n_free]
        self._free = free
        self._n_free += len(fresh)
        self.capacity = new_capacity
