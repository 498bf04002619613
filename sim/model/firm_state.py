"""Struct-of-arrays storage for firms: the hot path reads and writes whole columns.

Live firms are kept dense in slots ``0 .. n_alive - 1``: each column attribute is a view of that
many rows of a larger buffer, so every pass of the step touches live firms only. Entrants are
appended; an exit leaves a hole that ``compact`` closes by moving the last live firms into it
(the caller then re-points ties and agents). Buffers only grow (doubling) when the population
outgrows them, never on every entry or exit.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels.firm_state import compact_groups

# column name -> dtype, fill value for a fresh or freed slot
FIRM_COLUMNS: dict[str, tuple[type, float]] = {
    "alive": (np.bool_, False),
    "cluster": (np.int32, -1),
    "stage": (np.int8, 0),
    "workers": (np.float64, 0.0),
    "productivity": (np.float64, 0.0),
    # log(max(productivity, 1e-9)) as numpy takes it, worked out at entry (``initialise_entrants``)
    # and read by the quarter's outcomes: productivity does not change in between
    "log_productivity": (np.float64, 0.0),
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
    # customer base: value its buyers order per quarter at even competitiveness; -1 until an
    # entrant first sells (production.offers)
    "goodwill": (np.float64, -1.0),
    "units": (np.float64, 0.0),
    "sales": (np.float64, 0.0),
    "materials": (np.float64, 0.0),
    "local_inputs": (np.float64, 0.0),
    "value_added": (np.float64, 0.0),
    "profit": (np.float64, 0.0),
    "utilisation": (np.float64, 0.0),
    "support": (np.float64, 0.0),
    "support_total": (np.float64, 0.0),
    "equipment": (np.float64, 0.0),  # machine stock from equipment grants, in wage units
    "uid": (np.int64, -1),
}

# Columns of one dtype are rows of one 2-D buffer, so ``compact`` moves every column in one
# compiled call (not one per column or per dtype: the call is what a small world pays).
COLUMN_GROUPS: dict[type, tuple[str, ...]] = {}
for _name, (_dtype, _fill) in FIRM_COLUMNS.items():
    COLUMN_GROUPS.setdefault(_dtype, ())
    COLUMN_GROUPS[_dtype] += (_name,)
GROUP_FILLS: dict[type, np.ndarray] = {
    dtype: np.array([FIRM_COLUMNS[name][1] for name in names], dtype=dtype)
    for dtype, names in COLUMN_GROUPS.items()
}

# what code running between an exit and ``compact`` reads of an empty slot (entry counts firms
# per cluster, agents look firms up by id); ``compact`` overwrites or refills everything else
HOLE_COLUMNS = ("alive", "cluster", "uid")


class FirmState:
    """All numeric firm state, one view per column over slots ``0 .. size - 1``.

    Between an exit (``release``) and ``compact``, ``size`` exceeds ``n_alive`` and ``alive``
    marks the holes; at every other time all ``size`` slots are live.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 16)
        self._groups = {
            dtype: np.repeat(fills[:, None], self.capacity, axis=1)
            for dtype, fills in GROUP_FILLS.items()
        }
        self._point_buffers()
        self.size = 0  # slots in use: live firms plus holes not yet compacted
        self.n_alive = 0
        self.generation = 0  # bumps whenever slots are allocated, freed or moved
        self._bind()

    def _point_buffers(self) -> None:
        """Each column's buffer: its row of its dtype's group; the groups with their fill
        values as ``compact`` hands them to its kernel."""
        self._group_fills = tuple(
            (group, GROUP_FILLS[dtype]) for dtype, group in self._groups.items()
        )
        self._buffers = {
            name: self._groups[dtype][row]
            for dtype, names in COLUMN_GROUPS.items()
            for row, name in enumerate(names)
        }

    def _bind(self) -> None:
        for name, buffer in self._buffers.items():
            setattr(self, name, buffer[: self.size])

    def alive_slots(self) -> np.ndarray:
        return np.flatnonzero(self.alive)

    def allocate(self, count: int) -> np.ndarray:
        """Append ``count`` slots (growing the buffers if needed) and mark them alive."""
        if self.size + count > self.capacity:
            self._grow(max(self.capacity * 2, self.size + count))
        slots = np.arange(self.size, self.size + count)
        self.size += count
        self.n_alive += count
        self._bind()
        self.alive[slots] = True
        self.generation += 1
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Mark the slots of exiting firms empty (``HOLE_COLUMNS`` take their fill values, the
        rest keeps stale values until ``compact``); callers cut ties pointing at them."""
        if len(slots) == 0:
            return
        for name in HOLE_COLUMNS:
            getattr(self, name)[slots] = FIRM_COLUMNS[name][1]
        self.n_alive -= len(slots)
        self.generation += 1

    def released(self, count: int) -> None:
        """``count`` slots were emptied as ``release`` empties them, by a compiled pass
        (``kernels.firms.leave``): count them out."""
        self.n_alive -= count
        self.generation += 1

    def compact(self) -> tuple[np.ndarray, np.ndarray]:
        """Move the last live firms into the holes below ``n_alive``; return (from, to) slots.

        Callers re-point whatever holds slot numbers (vertical ties, horizontal ties, agents).
        """
        n = self.n_alive
        movers, holes = compact_groups(self._group_fills, self.alive, n)
        self.size = n
        self._bind()
        if len(holes):
            self.generation += 1
        return movers, holes

    def _grow(self, new_capacity: int) -> None:
        for dtype, group in self._groups.items():
            bigger = np.empty((group.shape[0], new_capacity), dtype=dtype)
            bigger[:] = GROUP_FILLS[dtype][:, None]
            bigger[:, : self.size] = group[:, : self.size]
            self._groups[dtype] = bigger
        self.capacity = new_capacity
        self._point_buffers()
        self._bind()
