"""Compiled per-firm loops behind ``sim.firms`` (see ``sim.compiled`` for the rules that keep
them bit-for-bit equal to the numpy code they replace).

Each kernel does one pass where the numpy version did several, with the same IEEE operations in
the same order; ``exp``/``log`` and random draws stay with the caller, in numpy. Comparisons are
written so that NaN passes through as it does in ``np.maximum``/``np.minimum``.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import kernel

UPSTREAM, PRODUCER = 0, 1


@kernel
def _floor_at(x: float, low: float) -> float:
    """``np.maximum(x, low)``: x unless it is below ``low`` (NaN stays NaN)."""
    return low if x < low else x


@kernel
def _cap_at(x: float, high: float) -> float:
    """``np.minimum(x, high)``: x unless it is above ``high`` (NaN stays NaN)."""
    return high if x > high else x


# ---- ties -------------------------------------------------------------------------------------
@kernel
def linked(column: np.ndarray) -> np.ndarray:
    """Slots whose vertical tie is set (``np.flatnonzero(column >= 0)``)."""
    n = 0
    for i in range(len(column)):
        n += column[i] >= 0
    slots = np.empty(n + 1, dtype=np.int64)  # a spare: each slot is written before it is tested
    n = 0
    for i in range(len(column)):
        slots[n] = i
        n += column[i] >= 0
    return slots[:n]


@kernel
def cut(column: np.ndarray, slots: np.ndarray, u: np.ndarray, chance: float) -> None:
    """Unset the tie of each slot whose draw falls below ``chance``."""
    for k in range(len(slots)):
        if u[k] < chance:
            column[slots[k]] = -1


@kernel
def unlinked_producers(stage: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Producers without a tie in ``column``, in slot order."""
    n = 0
    for i in range(len(stage)):
        n += (stage[i] == PRODUCER) & (column[i] < 0)
    slots = np.empty(n + 1, dtype=np.int64)
    n = 0
    for i in range(len(stage)):
        slots[n] = i
        n += (stage[i] == PRODUCER) & (column[i] < 0)
    return slots[:n]


@kernel
def below(degree: np.ndarray, cap: int) -> np.ndarray:
    """Slots with fewer than ``cap`` ties (``np.flatnonzero(degree < cap)``)."""
    n = 0
    for i in range(len(degree)):
        n += degree[i] < cap
    slots = np.empty(n + 1, dtype=np.int64)
    n = 0
    for i in range(len(degree)):
        slots[n] = i
        n += degree[i] < cap
    return slots[:n]


@kernel
def succeeding(
    slots: np.ndarray, cluster: np.ndarray, chance: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """The slots whose draw falls below their cluster's ``chance``, in order."""
    chosen = np.empty(len(slots) + 1, dtype=np.int64)
    n = 0
    for k in range(len(slots)):
        chosen[n] = slots[k]
        n += u[k] < chance[cluster[slots[k]]]
    return chosen[:n].copy()  # a few among many: do not keep the whole buffer alive


# ---- learning ---------------------------------------------------------------------------------
@kernel
def floored_at(values: np.ndarray, nodes: np.ndarray, low: float) -> np.ndarray:
    """``np.maximum(values[nodes], low)``, contiguous (for ``np.log``)."""
    out = np.empty(len(nodes), dtype=np.float64)
    for k in range(len(nodes)):
        out[k] = _floor_at(values[nodes[k]], low)
    return out


@kernel
def spill_over(
    a: np.ndarray,
    b: np.ndarray,
    position: np.ndarray,
    nodes: np.ndarray,
    degree: np.ndarray,
    log_productivity: np.ndarray,
    quality: np.ndarray,
    absorptive: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Learning along ties: each tied firm gains ``rate * absorptive`` times the mean of its
    partners' leads. Updates ``quality`` in place and returns the log-productivity step of each
    node (the caller exponentiates it). ``log_productivity`` is per node; ``quality`` and
    ``absorptive`` per slot.

    Like the two bincounts it replaces, each firm sums its leads as the lower end of its ties
    (in tie order), then adds the sum as the upper end."""
    m = len(nodes)
    lead_p_low, lead_p_high = np.zeros(m), np.zeros(m)
    lead_q_low, lead_q_high = np.zeros(m), np.zeros(m)
    for e in range(len(a)):
        i, j = position[a[e]], position[b[e]]
        diff = log_productivity[j] - log_productivity[i]
        lead_p_low[i] += _floor_at(diff, 0.0)
        lead_p_high[j] += _floor_at(-diff, 0.0)
        diff = quality[b[e]] - quality[a[e]]
        lead_q_low[i] += _floor_at(diff, 0.0)
        lead_q_high[j] += _floor_at(-diff, 0.0)
    step = np.empty(m, dtype=np.float64)
    for k in range(m):
        slot = nodes[k]
        absorbed = rate * absorptive[slot]
        step[k] = absorbed * ((lead_p_low[k] + lead_p_high[k]) / degree[k])
        quality[slot] = quality[slot] + absorbed * ((lead_q_low[k] + lead_q_high[k]) / degree[k])
    return step


@kernel
def scale_at(values: np.ndarray, nodes: np.ndarray, factor: np.ndarray) -> None:
    """``values[nodes] *= factor`` (nodes distinct)."""
    for k in range(len(nodes)):
        values[nodes[k]] = values[nodes[k]] * factor[k]


# ---- accounts and investment ------------------------------------------------------------------
@kernel
def settle(
    trader: np.ndarray,
    sales: np.ndarray,
    materials: np.ndarray,
    workers: np.ndarray,
    value_added: np.ndarray,
    profit: np.ndarray,
    cash: np.ndarray,
    age: np.ndarray,
    visibility: np.ndarray,
    commission_rate: float,
    cost_per_worker: float,
    visibility_kept: float,
) -> None:
    """Value added after commissions paid and earned, profit, cash, age, fading visibility.

    Commissions are first summed per trader in slot order (as ``np.bincount`` does; untied
    firms add 0.0 to bin 0 as there), then each firm's accounts are settled."""
    earned = np.zeros(len(trader))
    for i in range(len(trader)):
        commission = commission_rate * sales[i] if trader[i] >= 0 else 0.0
        earned[max(trader[i], 0)] += commission
    for i in range(len(trader)):
        commission = commission_rate * sales[i] if trader[i] >= 0 else 0.0
        value_added[i] = sales[i] - materials[i] - commission + earned[i]
        profit[i] = value_added[i] - workers[i] * cost_per_worker
        cash[i] += profit[i]
        age[i] += 1
        visibility[i] *= visibility_kept


@kernel
def invest(
    cash: np.ndarray,
    workers: np.ndarray,
    quality: np.ndarray,
    stage: np.ndarray,
    segment: np.ndarray,
    threshold: np.ndarray,
    cash_buffer: float,
    invest_share: float,
    invest_efficiency: float,
    top_segment: int,
):
    """Spend a share of cash above the buffer (``cash`` in place); return per firm the gain's
    exponent for productivity and its step for quality. Below the next segment's quality
    threshold, half the gain goes to quality (never upstream)."""
    n = len(cash)
    exponent = np.empty(n, dtype=np.float64)
    quality_gain = np.empty(n, dtype=np.float64)
    for i in range(n):
        spend = invest_share * _floor_at(cash[i] - cash_buffer * workers[i], 0.0)
        cash[i] -= spend
        per_worker = spend / _floor_at(workers[i], 1.0)
        gain = invest_efficiency * per_worker / (1 + per_worker)
        next_threshold = threshold[min(segment[i] + 1, top_segment)]
        to_quality = 0.5 if stage[i] != UPSTREAM and quality[i] < next_threshold else 0.0
        exponent[i] = gain * (1 - to_quality)
        quality_gain[i] = gain * to_quality
    return exponent, quality_gain


@kernel
def improve(
    productivity: np.ndarray,
    quality: np.ndarray,
    growth: np.ndarray,
    quality_gain: np.ndarray,
    kept: float,
) -> None:
    """Productivity grows by ``growth`` and depreciates; quality closes ``quality_gain`` of its
    distance to 1."""
    for i in range(len(productivity)):
        productivity[i] = productivity[i] * (growth[i] * kept)
        quality[i] = _cap_at(quality[i] + quality_gain[i] * (1 - quality[i]), 1.0)


@kernel
def _grows(utilisation: float, profit: float) -> bool:
    return utilisation > 0.95 and profit > 0


@kernel
def _shrinks(utilisation: float, profit: float, workers: float) -> bool:
    return utilisation < 0.7 and profit < 0 and workers > 1


@kernel
def workforce_moves(utilisation: np.ndarray, profit: np.ndarray, workers: np.ndarray):
    """How many firms grow (sold out and profitable) and shrink (idle and losing)."""
    grow = shrink = 0
    for i in range(len(workers)):
        grow += _grows(utilisation[i], profit[i])
        shrink += _shrinks(utilisation[i], profit[i], workers[i])
    return grow, shrink


@kernel
def adjust_workforce(
    workers: np.ndarray,
    utilisation: np.ndarray,
    profit: np.ndarray,
    u_grow: np.ndarray,
    u_shrink: np.ndarray,
    hiring_rate: float,
    management_span: float,
    firing_rate: float,
) -> None:
    """Hire or lay off, rounded stochastically (one draw per growing, one per shrinking firm,
    in slot order); at least one worker stays."""
    g = s = 0
    for i in range(len(workers)):
        w = workers[i]
        if _grows(utilisation[i], profit[i]):
            rate = hiring_rate / (1 + w / management_span)
            w = w + np.floor(rate * w + u_grow[g])
            g += 1
        elif _shrinks(utilisation[i], profit[i], w):
            w = w - np.floor(firing_rate * w + u_shrink[s])
            s += 1
        workers[i] = _floor_at(w, 1.0)


# ---- exit and entry ---------------------------------------------------------------------------
@kernel
def leavers(cash: np.ndarray, loss_streak: np.ndarray, patience: int) -> np.ndarray:
    """Count quarters of negative cash (reset otherwise); slots that reached ``patience``."""
    n = 0
    for i in range(len(cash)):
        loss_streak[i] = loss_streak[i] + 1 if cash[i] < 0 else 0
        n += loss_streak[i] >= patience
    slots = np.empty(n + 1, dtype=np.int64)
    n = 0
    for i in range(len(cash)):
        slots[n] = i
        n += loss_streak[i] >= patience
    return slots[:n]


@kernel
def cluster_totals(cluster: np.ndarray, first: np.ndarray, second: np.ndarray, n_clusters: int):
    """Firms per cluster and two columns summed per cluster in slot order (``np.bincount``);
    empty slots (cluster -1) are left out."""
    count = np.zeros(n_clusters, dtype=np.int64)
    total_first, total_second = np.zeros(n_clusters), np.zeros(n_clusters)
    for i in range(len(cluster)):
        c = cluster[i]
        if c >= 0:
            count[c] += 1
            total_first[c] += first[i]
            total_second[c] += second[i]
    return count, total_first, total_second
