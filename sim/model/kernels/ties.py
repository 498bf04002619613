"""Compiled loops behind ``sim.model.ties``: grouping firms to draw partners, and keeping the
horizontal tie list (degrees, kept and cut ties, relabelling after compaction, new ties).

Ties lapse and form in slot order, one draw per candidate (the draws are numpy's, passed in), so
a seed gives the same ties every run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import kernel


class Tied(NamedTuple):
    """The firms with at least one horizontal tie (``tied_slots``)."""

    nodes: np.ndarray  # their slots, ascending
    degree: np.ndarray  # their ties
    position: np.ndarray  # per slot: its position among the nodes, -1 if untied (32-bit)


class PartnerGroups(NamedTuple):
    """Live firms grouped by (cluster, stage), to draw partners from (``group_by_key``)."""

    slots: np.ndarray  # in key order, ascending within a key
    counts: np.ndarray  # per key (cluster x n_stages + stage)
    starts: np.ndarray  # per key: its first position in ``slots``
    n_stages: int


@kernel
def cut_ties_to_dead(column: np.ndarray, dead: np.ndarray) -> None:
    """Vertical ties (one partner slot per firm, -1 for none) to exiting firms lapse; ``dead``
    has one spare False at the end, which -1 looks up."""
    for i in range(len(column)):
        if dead[column[i]]:
            column[i] = -1


@kernel
def follow_moves(column: np.ndarray, where: np.ndarray, start: int) -> None:
    """Vertical ties follow firms that moved slot in compaction: a partner at slot ``start + i``
    or above is now at ``where[i]``; partners below ``start`` (and -1, none) stayed."""
    for i in range(len(column)):
        if column[i] >= start:
            column[i] = where[column[i] - start]


@kernel
def group_by_key(cluster: np.ndarray, stage: np.ndarray, n_stages: int, n_keys: int):
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
def pick_in_groups(
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


@kernel
def count_degree(a: np.ndarray, b: np.ndarray, capacity: int) -> np.ndarray:
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
def kept_ties(a: np.ndarray, b: np.ndarray, keep: np.ndarray):
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
def ties_without(a: np.ndarray, b: np.ndarray, dead: np.ndarray):
    """The ties with neither end flagged ``dead``, in order."""
    keep = np.empty(len(a), dtype=np.bool_)
    for e in range(len(a)):
        keep[e] = not (dead[a[e]] | dead[b[e]])
    return kept_ties(a, b, keep)


@kernel
def relabelled(a: np.ndarray, b: np.ndarray, where: np.ndarray, start: int):
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
def add_degree(degree: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """New ties' ends gain a tie."""
    for k in range(len(lo)):
        degree[lo[k]] += 1
        degree[hi[k]] += 1


@kernel
def fresh_ties(a: np.ndarray, b: np.ndarray, keys: np.ndarray, base: int):
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
def tie_ends(seekers: np.ndarray, partner: np.ndarray, b: np.ndarray):
    """The proposed ties' ends as ``HorizontalTies.add`` takes them: pairs with a partner
    (``partner >= 0``) that is not the seeker, as (lower end, upper end), their keys
    ``lo * base + hi`` sorted, and ``base`` (one more than the highest end, the existing
    ties' ``b`` included). ``np.sort`` of integers: any sort gives the same order."""
    n = 0
    for k in range(len(seekers)):
        n += (partner[k] >= 0) & (seekers[k] != partner[k])
    lo, hi = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n = 0
    for k in range(len(seekers)):
        if partner[k] >= 0 and seekers[k] != partner[k]:
            lo[n], hi[n] = min(seekers[k], partner[k]), max(seekers[k], partner[k])
            n += 1
    top = 0
    for k in range(n):
        top = max(top, hi[k])
    for e in range(len(b)):
        top = max(top, b[e])
    base = top + 1
    keys = np.empty(n, dtype=np.int64)
    for k in range(n):
        keys[k] = lo[k] * base + hi[k]
    return np.sort(keys), base


@kernel
def tied_slots(degree: np.ndarray):
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
    return Tied(nodes[:n], node_degree[:n], position)


@kernel
def follow_compaction(
    supplier: np.ndarray,
    trader: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    movers: np.ndarray,
    holes: np.ndarray,
    end: int,
    uid: np.ndarray,
    slot_by_uid: np.ndarray,
):
    """Everything that holds slot numbers follows the firms compaction moved (``movers[k]``,
    all at ``end`` or above, now at ``holes[k]``), in one call: vertical ties
    (``follow_moves``), the cooperation ties (``relabelled``, returned) and each moved firm's
    entry in ``slot_by_uid`` (``uid`` is per slot, after the move)."""
    where = np.zeros(movers[-1] + 1 - end, dtype=np.int64)
    for k in range(len(movers)):
        where[movers[k] - end] = holes[k]
    follow_moves(supplier, where, end)
    follow_moves(trader, where, end)
    for k in range(len(holes)):
        slot_by_uid[uid[holes[k]]] = holes[k]
    return relabelled(a, b, where, end)
