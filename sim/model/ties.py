"""Inter-firm ties. Vertical ties (producer -> supplier, producer -> trader) are one slot index per
firm in FirmState; horizontal cooperation ties are an undirected edge list, so learning is a
pass over the edges (a sparse mat-vec) rather than a loop over agents.

The per-edge and per-firm passes are compiled loops (``sim.model.kernels.ties``): ties form
and lapse in slot order, one draw per candidate, so a seed gives the same ties every run."""

from __future__ import annotations

import numpy as np

from sim.model.firm_state import FirmState
from sim.model.kernels import ties as kernels


class PartnerIndex:
    """Alive firms grouped by (cluster, stage), to draw a random partner of a given stage."""

    def __init__(self, firms: FirmState, n_clusters: int, n_stages: int = 3) -> None:
        # all slots are live; slots ascend within a group
        self.slots, self.counts, self.starts = kernels.group_by_key(
            firms.cluster, firms.stage, n_stages, n_clusters * n_stages
        )
        self.n_stages = n_stages

    @property
    def groups(self) -> kernels.PartnerGroups:
        """The grouping as a kernel reads it."""
        return kernels.PartnerGroups(self.slots, self.counts, self.starts, self.n_stages)

    def size(self, cluster: np.ndarray, stage: int | np.ndarray) -> np.ndarray:
        return self.counts[cluster.astype(np.int64) * self.n_stages + stage]

    def draw(
        self, cluster: np.ndarray, stage: int | np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """A random firm of ``stage`` in each given cluster, or -1 where there is none."""
        key = cluster.astype(np.int64) * self.n_stages + stage
        return kernels.pick_in_groups(
            self.slots, self.counts, self.starts, key, rng.random(len(key))
        )


class HorizontalTies:
    """Undirected cooperation ties as an edge list (a < b, no duplicates).

    The ties' degrees are counted once when asked for and then kept while only new ties come
    (a quarter asks for them when ties form and again in learning, just after)."""

    def __init__(self) -> None:
        self.a = np.empty(0, dtype=np.int64)
        self.b = np.empty(0, dtype=np.int64)
        self._degree: np.ndarray | None = None  # ties per slot, None when ties were cut or moved
        self._degree_capacity = 0  # the capacity it was counted for

    def __len__(self) -> int:
        return len(self.a)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a, self.b

    def degree(self, capacity: int) -> np.ndarray:
        """Ties per slot (``np.bincount`` of both ends, at least ``capacity`` long)."""
        if self._degree is None or self._degree_capacity != capacity:
            self._degree, self._degree_capacity = (
                kernels.count_degree(self.a, self.b, capacity),
                capacity,
            )
        degree = self._degree[:]
        degree.flags.writeable = False  # a view of the kept counts
        return degree

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add new ties ``a[i]``-``b[i]``, skipping pairs without a partner (``b[i]`` -1),
        self-ties and ties that already exist; they are appended in (lower end, upper end)
        order."""
        keys, base = kernels.tie_ends(a, b, self.b)
        if len(keys) == 0:
            return
        lo, hi = kernels.fresh_ties(self.a, self.b, keys, base)
        self.a = np.concatenate((self.a, lo))
        self.b = np.concatenate((self.b, hi))
        if self._degree is not None and len(self._degree) >= base:
            kernels.add_degree(self._degree, lo, hi)
        else:
            self._degree = None

    def replace(self, a: np.ndarray, b: np.ndarray, degree: np.ndarray) -> None:
        """Take the ties a compiled pass left (ends ``a < b``) and their count per slot
        (``count_degree`` of them, as long as ``degree(capacity)`` makes it)."""
        self.a, self.b = a, b
        self._degree, self._degree_capacity = degree, len(degree)

    def take(self, a: np.ndarray, b: np.ndarray) -> None:
        """Take the ties a compiled pass left after cutting or relabelling some
        (``kernels.firms.leave``, ``kernels.ties.follow_compaction``); their degrees are
        counted again when asked for."""
        self.a, self.b = a, b
        self._degree = None

    def keep(self, mask: np.ndarray) -> None:
        self.a, self.b = kernels.kept_ties(self.a, self.b, mask)
        self._degree = None

    def relabel(self, where: np.ndarray, start: int) -> None:
        """Follow firms that moved slot: slot ``start + i`` moved to ``where[i]``; slots below
        ``start`` stayed. Ends stay ordered (a < b)."""
        self.a, self.b = kernels.relabelled(self.a, self.b, where, start)
        self._degree = None

    def drop_firms(self, dead: np.ndarray) -> None:
        """Cut every tie touching a slot flagged in the boolean array ``dead``."""
        if len(self.a):
            self.a, self.b = kernels.ties_without(self.a, self.b, dead)
            self._degree = None

    def touched(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Firms with at least one tie, their degree, and each tie's ends as positions among
        them (slots below ``n_slots``).

        Learning only moves these firms, so it can work on them rather than on every slot.
        """
        nodes, degree, position = kernels.tied_slots(self.degree(n_slots))
        position = position.astype(np.int64)
        return nodes, degree, position[self.a], position[self.b]

    def tied_positions(self, n_slots: int) -> kernels.Tied:
        """Like ``touched``, but each slot's position among the tied firms (-1 if untied)
        instead of per-tie positions: compiled loops look ends up themselves."""
        return kernels.tied_slots(self.degree(n_slots))

    def neighbour_gap_mean(self, values: np.ndarray, capacity: int) -> np.ndarray:
        """Mean over a firm's partners of max(0, partner value - own value): what it can learn."""
        if len(self.a) == 0:
            return np.zeros(capacity)
        diff = values[self.b] - values[self.a]
        gain = np.bincount(self.a, weights=np.maximum(diff, 0), minlength=capacity)
        gain += np.bincount(self.b, weights=np.maximum(-diff, 0), minlength=capacity)
        return gain / np.maximum(self.degree(capacity), 1)
