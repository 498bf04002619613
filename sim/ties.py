"""Inter-firm ties. Vertical ties (producer -> supplier, producer -> trader) are one slot index per
firm in FirmState; horizontal cooperation ties are an undirected edge list, so learning is a
pair of bincounts (a sparse mat-vec) rather than a loop over agents."""

from __future__ import annotations

import numpy as np

from sim.firm_state import FirmState


class PartnerIndex:
    """Alive firms grouped by (cluster, stage), to draw a random partner of a given stage."""

    def __init__(self, firms: FirmState, n_clusters: int, n_stages: int = 3) -> None:
        keys = firms.cluster.astype(np.int64) * n_stages + firms.stage  # all slots are live
        # a stable sort of 16-bit keys is a radix sort, O(n); the order is the same either way
        small = n_clusters * n_stages <= np.iinfo(np.uint16).max
        order = np.argsort(keys.astype(np.uint16) if small else keys, kind="stable")
        self.slots = order
        self.counts = np.bincount(keys, minlength=n_clusters * n_stages)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))
        self.n_stages = n_stages

    def size(self, cluster: np.ndarray, stage: int | np.ndarray) -> np.ndarray:
        return self.counts[cluster.astype(np.int64) * self.n_stages + stage]

    def draw(
        self, cluster: np.ndarray, stage: int | np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """A random firm of ``stage`` in each given cluster, or -1 where there is none."""
        key = cluster.astype(np.int64) * self.n_stages + stage
        count = self.counts[key]
        offset = (rng.random(len(key)) * np.maximum(count, 1)).astype(np.int64)
        picked = self.slots[np.minimum(self.starts[key] + offset, len(self.slots) - 1)]
        return np.where(count > 0, picked, -1)


class HorizontalTies:
    """Undirected cooperation ties as an edge list (a < b, no duplicates)."""

    def __init__(self) -> None:
        self.a = np.empty(0, dtype=np.int64)
        self.b = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.a)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a, self.b

    def degree(self, capacity: int) -> np.ndarray:
        return np.bincount(np.concatenate((self.a, self.b)), minlength=capacity)

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add new ties, skipping self-ties and ties that already exist."""
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        if len(lo) == 0:
            return
        base = int(max(hi.max(), self.b.max() if len(self.b) else 0)) + 1
        new_keys, first = np.unique(lo * base + hi, return_index=True)
        # an existing tie can only be one of these if it starts where a new one does: compare
        # against those few rather than sorting every tie's key
        starts = np.zeros(base, dtype=bool)
        starts[lo] = True
        near = starts[self.a]
        fresh = ~np.isin(new_keys, self.a[near] * base + self.b[near])
        self.a = np.concatenate((self.a, lo[first][fresh]))
        self.b = np.concatenate((self.b, hi[first][fresh]))

    def keep(self, mask: np.ndarray) -> None:
        self.a = self.a[mask]
        self.b = self.b[mask]

    def relabel(self, where: np.ndarray, start: int) -> None:
        """Follow firms that moved slot: slot ``start + i`` moved to ``where[i]``; slots below
        ``start`` stayed. Ends stay ordered (a < b)."""
        a, b = self.a.copy(), self.b.copy()
        for ends in (a, b):
            moved = np.flatnonzero(ends >= start)
            ends[moved] = where[ends[moved] - start]
        self.a, self.b = np.minimum(a, b), np.maximum(a, b)

    def drop_firms(self, dead: np.ndarray) -> None:
        """Cut every tie touching a slot flagged in the boolean array ``dead``."""
        if len(self.a):
            self.keep(~(dead[self.a] | dead[self.b]))

    def touched(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Firms with at least one tie, their degree, and each tie's ends as positions among
        them (slots below ``n_slots``).

        Learning only moves these firms, so it can work on them rather than on every slot.
        Positions come from a running count over slots (linear), not from sorting tie ends.
        """
        degree = self.degree(n_slots)
        tied = degree > 0
        position = np.cumsum(tied) - 1
        return np.flatnonzero(tied), degree[tied], position[self.a], position[self.b]

    def neighbour_gap_mean(self, values: np.ndarray, capacity: int) -> np.ndarray:
        """Mean over a firm's partners of max(0, partner value - own value): what it can learn."""
        if len(self.a) == 0:
            return np.zeros(capacity)
        diff = values[self.b] - values[self.a]
        gain = np.bincount(self.a, weights=np.maximum(diff, 0), minlength=capacity)
        gain += np.bincount(self.b, weights=np.maximum(-diff, 0), minlength=capacity)
        return gain / np.maximum(self.degree(capacity), 1)
