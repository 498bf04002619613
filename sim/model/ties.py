"""Inter-firm ties. Vertical ties (producer -> supplier, producer -> trader) are one slot index per
firm in FirmState; horizontal cooperation ties are an undirected edge list, so learning is a
pass over the edges (a sparse mat-vec) rather than a loop over agents.

The per-edge and per-firm passes are compiled loops (``sim.model.kernels.compiled``): ties form
and lapse in slot order, one draw per candidate, so a seed gives the same ties every run."""

from __future__ import annotations

import numpy as np

from sim.model.firm_state import FirmState
from sim.model.kernels.compiled import kernel


@kernel
def cut_ties_to_dead(column: np.ndarray, dead: np.ndarray) -> None:
    """Vertical ties (one partner slot per firm, -1 for none) to exiting firms lapse; ``dead``
    has one spare False at the end, which -1 looks up."""
    for i in range(len(column)):
        if dead[column[i]]:
            column[i] = -1


@kernel
def _group_by_key(cluster: np.ndarray, stage: np.ndarray, n_stages: int, n_keys: int):
    """Counting sort of slots by (cluster, stage): slots in key order, ascending within a key
    (what a stable argsort gives), with each key's count and first position. Slots are 32-bit
    (half the memory traffic); the draws return them as 64-bit."""
    counts = np.zeros(n_keys, dtype=np.int64)
    for i in range(len(cluster)):
        counts[cluster[i] * n_stages + stage[i]] += 1
    starts = np.empty(n_keys, dtype=np.int64)
    total = 0
    for key in range(n_keys):
        starts[key] = total
        total += counts[key]
    fill = starts.copy()
    slots = np.empty(len(cluster), dtype=np.int32)
    for i in range(len(cluster)):
        key = cluster[i] * n_stages + stage[i]
        slots[fill[key]] = i
        fill[key] += 1
    return slots, counts, starts


@kernel
def _pick(
    slots: np.ndarray, counts: np.ndarray, starts: np.ndarray, key: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """The member at ``floor(u * count)`` of each key's group, -1 for an empty group."""
    picked = np.empty(len(key), dtype=np.int64)
    last = len(slots) - 1
    for i in range(len(key)):
        count = counts[key[i]]
        if count > 0:
            offset = np.int64(u[i] * count)
            picked[i] = slots[min(starts[key[i]] + offset, last)]
        else:
            picked[i] = -1
    return picked


class PartnerIndex:
    """Alive firms grouped by (cluster, stage), to draw a random partner of a given stage."""

    def __init__(self, firms: FirmState, n_clusters: int, n_stages: int = 3) -> None:
        # all slots are live; slots ascend within a group
        self.slots, self.counts, self.starts = _group_by_key(
            firms.cluster, firms.stage, n_stages, n_clusters * n_stages
        )
        self.n_stages = n_stages

    def size(self, cluster: np.ndarray, stage: int | np.ndarray) -> np.ndarray:
        return self.counts[cluster.astype(np.int64) * self.n_stages + stage]

    def draw(
        self, cluster: np.ndarray, stage: int | np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """A random firm of ``stage`` in each given cluster, or -1 where there is none."""
        key = cluster.astype(np.int64) * self.n_stages + stage
        return _pick(self.slots, self.counts, self.starts, key, rng.random(len(key)))


@kernel
def _degree(a: np.ndarray, b: np.ndarray, capacity: int) -> np.ndarray:
    """Ties per slot (``np.bincount`` of both ends, at least ``capacity`` long)."""
    size = capacity
    for e in range(len(a)):
        size = max(size, b[e] + 1, a[e] + 1)
    degree = np.zeros(size, dtype=np.int64)
    for e in range(len(a)):
        degree[a[e]] += 1
        degree[b[e]] += 1
    return degree


@kernel
def _kept(a: np.ndarray, b: np.ndarray, keep: np.ndarray):
    """The ties flagged in ``keep``, in order."""
    kept_a = np.empty(len(a) + 1, dtype=a.dtype)  # a spare: each is written before it is tested
    kept_b = np.empty(len(b) + 1, dtype=b.dtype)
    n = 0
    for e in range(len(a)):
        kept_a[n] = a[e]
        kept_b[n] = b[e]
        n += keep[e]
    return kept_a[:n], kept_b[:n]


@kernel
def _without(a: np.ndarray, b: np.ndarray, dead: np.ndarray):
    """The ties with neither end flagged ``dead``, in order."""
    keep = np.empty(len(a), dtype=np.bool_)
    for e in range(len(a)):
        keep[e] = not (dead[a[e]] | dead[b[e]])
    return _kept(a, b, keep)


@kernel
def _relabelled(a: np.ndarray, b: np.ndarray, where: np.ndarray, start: int):
    """Ends at ``start`` or above moved to ``where[end - start]``; each tie reordered a < b."""
    new_a = np.empty(len(a), dtype=a.dtype)
    new_b = np.empty(len(b), dtype=b.dtype)
    for e in range(len(a)):
        x, y = a[e], b[e]
        if x >= start:
            x = where[x - start]
        if y >= start:
            y = where[y - start]
        new_a[e] = min(x, y)
        new_b[e] = max(x, y)
    return new_a, new_b


@kernel
def _add_degree(degree: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """New ties' ends gain a tie."""
    for k in range(len(lo)):
        degree[lo[k]] += 1
        degree[hi[k]] += 1


@kernel
def _fresh_ties(a: np.ndarray, b: np.ndarray, keys: np.ndarray, base: int):
    """Ends (lo, hi) of the distinct sorted keys ``lo * base + hi`` that are not a tie yet, in
    key order. An existing tie can only match if it starts where a new one does, so only those
    few are looked up (binary search)."""
    distinct = np.empty(len(keys), dtype=np.int64)
    n = 0
    for k in range(len(keys)):
        if n == 0 or keys[k] != distinct[n - 1]:
            distinct[n] = keys[k]
            n += 1
    starts = np.zeros(base, dtype=np.bool_)
    for k in range(n):
        starts[distinct[k] // base] = True
    fresh = np.ones(n, dtype=np.bool_)
    for e in range(len(a)):
        if starts[a[e]]:
            key = a[e] * base + b[e]
            low, high = 0, n  # the first distinct key >= key
            while low < high:
                middle = (low + high) >> 1
                if distinct[middle] < key:
                    low = middle + 1
                else:
                    high = middle
            if low < n and distinct[low] == key:
                fresh[low] = False
    count = 0
    for k in range(n):
        count += fresh[k]
    lo = np.empty(count, dtype=np.int64)
    hi = np.empty(count, dtype=np.int64)
    count = 0
    for k in range(n):
        if fresh[k]:
            lo[count] = distinct[k] // base
            hi[count] = distinct[k] % base
            count += 1
    return lo, hi


@kernel
def _touched(degree: np.ndarray):
    """Tied slots, their degree, and each slot's position among them (-1 if untied; 32-bit, to
    keep the lookups in cache). Counts the tied slots first, so nothing is sized for all."""
    n = 0
    for slot in range(len(degree)):
        n += degree[slot] > 0
    position = np.empty(len(degree), dtype=np.int32)
    nodes = np.empty(n + 1, dtype=np.int64)  # a spare: each is written before it is tested
    node_degree = np.empty(n + 1, dtype=np.int64)
    n = 0
    for slot in range(len(degree)):
        tied = degree[slot] > 0
        position[slot] = n if tied else -1
        nodes[n] = slot
        node_degree[n] = degree[slot]
        n += tied
    return nodes[:n], node_degree[:n], position


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
            self._degree, self._degree_capacity = _degree(self.a, self.b, capacity), capacity
        degree = self._degree[:]
        degree.flags.writeable = False  # a view of the kept counts
        return degree

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add new ties, skipping self-ties and ties that already exist; they are appended in
        (lower end, upper end) order."""
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        if len(lo) == 0:
            return
        base = int(max(hi.max(), self.b.max() if len(self.b) else 0)) + 1
        lo, hi = _fresh_ties(self.a, self.b, np.sort(lo * base + hi), base)
        self.a = np.concatenate((self.a, lo))
        self.b = np.concatenate((self.b, hi))
        if self._degree is not None and len(self._degree) >= base:
            _add_degree(self._degree, lo, hi)
        else:
            self._degree = None

    def keep(self, mask: np.ndarray) -> None:
        self.a, self.b = _kept(self.a, self.b, mask)
        self._degree = None

    def relabel(self, where: np.ndarray, start: int) -> None:
        """Follow firms that moved slot: slot ``start + i`` moved to ``where[i]``; slots below
        ``start`` stayed. Ends stay ordered (a < b)."""
        self.a, self.b = _relabelled(self.a, self.b, where, start)
        self._degree = None

    def drop_firms(self, dead: np.ndarray) -> None:
        """Cut every tie touching a slot flagged in the boolean array ``dead``."""
        if len(self.a):
            self.a, self.b = _without(self.a, self.b, dead)
            self._degree = None

    def touched(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Firms with at least one tie, their degree, and each tie's ends as positions among
        them (slots below ``n_slots``).

        Learning only moves these firms, so it can work on them rather than on every slot.
        """
        nodes, degree, position = _touched(self.degree(n_slots))
        position = position.astype(np.int64)
        return nodes, degree, position[self.a], position[self.b]

    def tied_positions(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like ``touched``, but each slot's position among the tied firms (-1 if untied)
        instead of per-tie positions: compiled loops look ends up themselves."""
        return _touched(self.degree(n_slots))

    def neighbour_gap_mean(self, values: np.ndarray, capacity: int) -> np.ndarray:
        """Mean over a firm's partners of max(0, partner value - own value): what it can learn."""
        if len(self.a) == 0:
            return np.zeros(capacity)
        diff = values[self.b] - values[self.a]
        gain = np.bincount(self.a, weights=np.maximum(diff, 0), minlength=capacity)
        gain += np.bincount(self.b, weights=np.maximum(-diff, 0), minlength=capacity)
        return gain / np.maximum(self.degree(capacity), 1)
