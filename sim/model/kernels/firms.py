"""Compiled per-firm loops behind ``sim.model.firms``: ties, learning, accounts, investment,
entry and exit, each rule in one pass over the firms.

``exp``/``log`` and random draws stay with the caller, in numpy (``sim.model.kernels.compiled``
says why), except tie dynamics, which draw the model generator's uniforms inside
(``form_and_lapse_ties``, through a ``kernels.draws.Stream``). Comparisons are written so
that NaN passes through as it does in ``np.maximum``/``np.minimum``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import cap_at, clip_to, floor_at, kernel
from sim.model.kernels.draws import Stream, uniforms
from sim.model.kernels.ties import (
    PartnerGroups,
    Tied,
    add_degree,
    count_degree,
    cut_ties_to_dead,
    fresh_ties,
    kept_ties,
    pick_in_groups,
    tie_ends,
    ties_without,
)
from sim.scenario.codes import DOWNSTREAM, N_SEGMENTS, PRODUCER, UPSTREAM


class Learners(NamedTuple):
    """The firm columns ``spill_over`` reads (``absorptive``) and writes (``quality``)."""

    quality: np.ndarray  # written
    absorptive: np.ndarray


class Accounts(NamedTuple):
    """The firm columns ``settle`` reads (``trader`` to ``workers``) and writes."""

    trader: np.ndarray
    sales: np.ndarray
    materials: np.ndarray
    workers: np.ndarray
    value_added: np.ndarray  # written
    profit: np.ndarray  # written
    cash: np.ndarray  # written
    age: np.ndarray  # written
    visibility: np.ndarray  # written (it fades)
    equipment: np.ndarray  # written (it depreciates)


class Terms(NamedTuple):
    """Accounting terms (``sim.model.firms.account``)."""

    commission_rate: float  # traders' commission on the sales of the firms tied to them
    cost_per_worker: float  # wage and overhead
    visibility_kept: float  # 1 - visibility decay
    equipment_running_cost: float  # bought upkeep per unit of machine stock
    equipment_kept: float  # 1 - equipment depreciation


class Investors(NamedTuple):
    """The firm columns ``invest`` reads and writes (``cash``, ``quality``)."""

    cash: np.ndarray  # written
    workers: np.ndarray
    quality: np.ndarray  # written
    stage: np.ndarray
    segment: np.ndarray
    utilisation: np.ndarray
    profit: np.ndarray


class Staffing(NamedTuple):
    """The firm columns ``grow_and_staff`` reads and writes (``productivity``, ``workers``)."""

    productivity: np.ndarray  # written
    workers: np.ndarray  # written
    utilisation: np.ndarray
    profit: np.ndarray


class Growth(NamedTuple):
    """Investment and workforce terms (``sim.model.firms.investment_terms``)."""

    cash_buffer: float
    invest_share: float
    invest_efficiency: float
    kept: float  # 1 - depreciation
    hiring_rate: float
    management_span: float
    firing_rate: float


# ---- ties -------------------------------------------------------------------------------------
# A rule draws one number per candidate firm, in slot order, so it takes two passes: count the
# candidates (the caller draws that many numbers), then walk the firms again applying the draws.
# The walks select rather than branch: which firms are candidates, and which succeed, is random.


@kernel
def _draw(u: np.ndarray, k: int) -> float:
    """The k-th draw; past the last one (no candidate is left to use it) a dummy."""
    return u[k] if k < len(u) else 1.0


@kernel
def count_linked(supplier: np.ndarray, trader: np.ndarray) -> tuple[int, int]:
    """Firms with a supplier, firms with a trader."""
    suppliers = traders = 0
    for i in range(len(supplier)):
        suppliers += supplier[i] >= 0
        traders += trader[i] >= 0
    return suppliers, traders


@kernel
def _unlinked_producer(stage: int, link: int) -> bool:
    return (stage == PRODUCER) & (link < 0)


@kernel
def lapse(
    supplier: np.ndarray,
    trader: np.ndarray,
    stage: np.ndarray,
    u_supplier: np.ndarray,
    u_trader: np.ndarray,
    chance: float,
) -> tuple[int, int]:
    """Unset each set vertical tie whose draw (one per set tie of each kind) falls below
    ``chance``; return how many producers are then without a supplier and without a trader."""
    s = t = 0
    without_supplier = without_trader = 0
    for i in range(len(supplier)):
        has_supplier, has_trader = supplier[i] >= 0, trader[i] >= 0
        supplier[i] = -1 if has_supplier & (_draw(u_supplier, s) < chance) else supplier[i]
        trader[i] = -1 if has_trader & (_draw(u_trader, t) < chance) else trader[i]
        s += has_supplier
        t += has_trader
        without_supplier += _unlinked_producer(stage[i], supplier[i])
        without_trader += _unlinked_producer(stage[i], trader[i])
    return without_supplier, without_trader


@kernel
def unlinked_producers_seeking(
    stage: np.ndarray, column: np.ndarray, cluster: np.ndarray, chance: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Producers without a tie in ``column`` whose draw falls below their cluster's ``chance``
    (one draw per such producer), in slot order."""
    chosen = np.empty(len(u) + 1, dtype=np.int64)  # a spare: each is written before it is tested
    n = k = 0
    for i in range(len(stage)):
        candidate = _unlinked_producer(stage[i], column[i])
        chosen[n] = i
        n += candidate & (_draw(u, k) < chance[cluster[i]])
        k += candidate
    return chosen[:n].copy()  # a few among many: do not keep the whole buffer alive


@kernel
def count_below(degree: np.ndarray, cap: int) -> int:
    """Firms with fewer than ``cap`` horizontal ties."""
    n = 0
    for i in range(len(degree)):
        n += degree[i] < cap
    return n


@kernel
def below_cap_seeking(
    degree: np.ndarray, cap: int, cluster: np.ndarray, chance: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Firms with fewer than ``cap`` ties whose draw falls below their cluster's ``chance`` (one
    draw per such firm), in slot order."""
    chosen = np.empty(len(u) + 1, dtype=np.int64)
    n = k = 0
    for i in range(len(degree)):
        candidate = degree[i] < cap
        chosen[n] = i
        n += candidate & (_draw(u, k) < chance[cluster[i]])
        k += candidate
    return chosen[:n].copy()


class TieFirms(NamedTuple):
    """The firm columns ``form_and_lapse_ties`` reads and writes (``supplier``, ``trader``)."""

    supplier: np.ndarray  # written
    trader: np.ndarray  # written
    stage: np.ndarray
    cluster: np.ndarray


class TieClusters(NamedTuple):
    """The cluster columns that speed tie formation up (a coordinator brokers, joint action)."""

    legitimacy: np.ndarray
    coordinator: np.ndarray
    joint_action: np.ndarray


class TieRates(NamedTuple):
    """Tie formation and lapse terms (``sim.model.firms.update_ties``)."""

    brokerage: float
    tie_decay: float
    vertical_tie_rate: float
    buyer_tie_rate: float
    horizontal_tie_rate: float
    max_horizontal_ties: int


@kernel
def draw_partners(
    stream: Stream, groups: PartnerGroups, cluster: np.ndarray, stage, seekers: np.ndarray
):
    """A random firm of ``stage`` (one, or one per seeker) in each seeker's cluster, -1 where
    there is none: ``PartnerIndex.draw``, with its one draw per seeker taken from ``stream``."""
    key = np.empty(len(seekers), dtype=np.int64)
    for k in range(len(seekers)):
        key[k] = np.int64(cluster[seekers[k]]) * groups.n_stages + stage[k]
    u = uniforms(stream, len(seekers))
    return pick_in_groups(groups.slots, groups.counts, groups.starts, key, u)


@kernel
def seek_vertical(
    stream: Stream,
    groups: PartnerGroups,
    firms: TieFirms,
    column: np.ndarray,
    wanted: int,
    chance: np.ndarray,
    n_unlinked: int,
) -> None:
    """Producers without a tie in ``column`` (``n_unlinked`` of them) seek a local partner of
    stage ``wanted`` with their cluster's ``chance`` (``unlinked_producers_seeking``), and
    those who seek draw one (``draw_partners``; -1 where the cluster has none)."""
    u = uniforms(stream, n_unlinked)
    seekers = unlinked_producers_seeking(firms.stage, column, firms.cluster, chance, u)
    if len(seekers):
        wanted_stage = np.full(len(seekers), wanted, dtype=np.int64)
        picked = draw_partners(stream, groups, firms.cluster, wanted_stage, seekers)
        for k in range(len(seekers)):
            column[seekers[k]] = picked[k]


@kernel
def form_and_lapse_ties(
    stream: Stream,
    firms: TieFirms,
    clusters: TieClusters,
    groups: PartnerGroups,
    a: np.ndarray,
    b: np.ndarray,
    rates: TieRates,
):
    """A quarter of tie dynamics (``sim.model.firms.update_ties``) in one call instead of ~25.

    The rules are the kernels above and in ``kernels.ties``, applied in the order they always
    were, each drawing its numbers from the model's generator as numpy did (``stream``:
    ``kernels.draws.uniforms`` gives ``Generator.random``'s draws, one ``next_double`` each,
    without the ~6 us numba takes to unbox a Generator): vertical ties lapse, then horizontal ones;
    unlinked producers seek a supplier, then a trader; firms below the cap seek a cooperation
    partner. Per-cluster chances are worked out with numpy's operations in numpy's order.
    Returns the horizontal ties' ends (``a < b``) and the ties per slot (``count_degree``).
    """
    supplier, trader, stage, cluster = firms.supplier, firms.trader, firms.stage, firms.cluster
    n_clusters = len(clusters.legitimacy)
    brokerage = np.empty(n_clusters)
    horizontal_chance = np.empty(n_clusters)
    for k in range(n_clusters):
        brokered = 1.0 if clusters.coordinator[k] > 0 else 0.0
        brokerage[k] = 1.0 + rates.brokerage * clusters.legitimacy[k] * brokered
        horizontal_chance[k] = rates.horizontal_tie_rate * (
            1.0 + rates.brokerage * clusters.joint_action[k]
        )
    # lapse: a draw per tie
    linked_suppliers, linked_traders = count_linked(supplier, trader)
    u_supplier = uniforms(stream, linked_suppliers)
    u_trader = uniforms(stream, linked_traders)
    unlinked = lapse(supplier, trader, stage, u_supplier, u_trader, rates.tie_decay)
    if len(a):
        a, b = kept_ties(a, b, uniforms(stream, len(a)) >= rates.tie_decay)
    # vertical formation: unlinked producers look for a local supplier, then a local trader
    seek_vertical(
        stream, groups, firms, supplier, UPSTREAM, rates.vertical_tie_rate * brokerage, unlinked[0]
    )
    seek_vertical(
        stream, groups, firms, trader, DOWNSTREAM, rates.buyer_tie_rate * brokerage, unlinked[1]
    )
    # horizontal cooperation among firms of the same stage, helped by joint action
    degree = count_degree(a, b, len(stage))
    cap = rates.max_horizontal_ties
    u = uniforms(stream, count_below(degree, cap))
    seekers = below_cap_seeking(degree, cap, cluster, horizontal_chance, u)
    if len(seekers):
        partner = draw_partners(stream, groups, cluster, stage[seekers], seekers)
        keys, base = tie_ends(seekers, partner, b)  # (HorizontalTies.add)
        if len(keys):
            lo, hi = fresh_ties(a, b, keys, base)
            a, b = np.concatenate((a, lo)), np.concatenate((b, hi))
            add_degree(degree, lo, hi)
    return a, b, degree


# ---- learning ---------------------------------------------------------------------------------
@kernel
def floored_at(values: np.ndarray, nodes: np.ndarray, low: float) -> np.ndarray:
    """``np.maximum(values[nodes], low)``, contiguous (for ``np.log``)."""
    out = np.empty(len(nodes), dtype=np.float64)
    for k in range(len(nodes)):
        out[k] = floor_at(values[nodes[k]], low)
    return out


@kernel
def spill_over(
    a: np.ndarray,
    b: np.ndarray,
    tied: Tied,
    log_productivity: np.ndarray,
    firms: Learners,
    rate: float,
) -> np.ndarray:
    """Learning along ties (``a``, ``b``: their ends): each tied firm gains
    ``rate * absorptive`` times the mean of its partners' leads. Updates ``firms.quality`` in
    place and returns the log-productivity step of each node of ``tied`` (the caller
    exponentiates it). ``log_productivity`` is per node; ``firms``' columns per slot.

    Like the two bincounts it replaces, each firm sums its leads as the lower end of its ties
    (in tie order), then adds the sum as the upper end. A node's values and sums sit side by
    side (one cache line per end of a tie)."""
    nodes, degree, position = tied.nodes, tied.degree, tied.position
    quality, absorptive = firms.quality, firms.absorptive
    m = len(nodes)
    value = np.empty((m, 2))  # log productivity, quality
    for k in range(m):
        value[k, 0] = log_productivity[k]
        value[k, 1] = quality[nodes[k]]
    lead = np.zeros((m, 4))  # as lower end: productivity, quality; as upper end: the same
    for e in range(len(a)):
        i, j = position[a[e]], position[b[e]]
        productivity_gap = value[j, 0] - value[i, 0]
        quality_gap = value[j, 1] - value[i, 1]
        lead[i, 0] += floor_at(productivity_gap, 0.0)
        lead[i, 1] += floor_at(quality_gap, 0.0)
        lead[j, 2] += floor_at(-productivity_gap, 0.0)
        lead[j, 3] += floor_at(-quality_gap, 0.0)
    step = np.empty(m, dtype=np.float64)
    for k in range(m):
        absorbed = rate * absorptive[nodes[k]]
        step[k] = absorbed * ((lead[k, 0] + lead[k, 2]) / degree[k])
        quality[nodes[k]] = value[k, 1] + absorbed * ((lead[k, 1] + lead[k, 3]) / degree[k])
    return step


@kernel
def scale_at(values: np.ndarray, nodes: np.ndarray, factor: np.ndarray) -> None:
    """``values[nodes] *= factor`` (nodes distinct)."""
    for k in range(len(nodes)):
        values[nodes[k]] = values[nodes[k]] * factor[k]


# ---- accounts and investment ------------------------------------------------------------------
@kernel
def settle(firms: Accounts, terms: Terms) -> None:
    """Value added after commissions paid and earned and the machines' running cost (bought
    services), profit, cash, age, fading visibility, depreciating machine stock.

    Commissions are first summed per trader in slot order, as ``np.bincount`` does (it also
    adds untied firms' 0.0 to bin 0, which never changes a sum that starts at +0.0), then each
    firm's accounts are settled."""
    trader, sales, materials, workers = firms.trader, firms.sales, firms.materials, firms.workers
    value_added, profit, cash = firms.value_added, firms.profit, firms.cash
    commission_rate, cost_per_worker = terms.commission_rate, terms.cost_per_worker
    earned = np.zeros(len(trader))
    for i in range(len(trader)):
        if trader[i] >= 0:
            earned[trader[i]] += commission_rate * sales[i]
    for i in range(len(trader)):
        commission = commission_rate * sales[i] if trader[i] >= 0 else 0.0
        upkeep = terms.equipment_running_cost * firms.equipment[i]
        value_added[i] = sales[i] - materials[i] - commission + earned[i] - upkeep
        profit[i] = value_added[i] - workers[i] * cost_per_worker
        cash[i] += profit[i]
        firms.age[i] += 1
        firms.visibility[i] *= terms.visibility_kept
        firms.equipment[i] *= terms.equipment_kept


@kernel
def _grows(utilisation: float, profit: float) -> bool:
    """Sold out and profitable."""
    return (utilisation > 0.95) & (profit > 0)


@kernel
def _shrinks(utilisation: float, profit: float, workers: float) -> bool:
    """Idle and losing, with someone to lay off."""
    return (utilisation < 0.7) & (profit < 0) & (workers > 1)


@kernel
def invest(firms: Investors, threshold: np.ndarray, p: Growth):
    """Spend a share of cash above the buffer (``cash`` in place). Below the next segment's
    quality ``threshold`` half the gain goes to quality (never upstream), which closes that
    share of its distance to 1 (``quality`` in place); return per firm the exponent of
    productivity's growth, and how many firms will grow and shrink their workforce (each takes
    a draw)."""
    cash, workers, quality, segment = firms.cash, firms.workers, firms.quality, firms.segment
    utilisation, profit = firms.utilisation, firms.profit
    top_segment = N_SEGMENTS - 1
    n = len(cash)
    exponent = np.empty(n, dtype=np.float64)
    grow = shrink = 0
    for i in range(n):
        spend = p.invest_share * floor_at(cash[i] - p.cash_buffer * workers[i], 0.0)
        cash[i] -= spend
        per_worker = spend / floor_at(workers[i], 1.0)
        gain = p.invest_efficiency * per_worker / (1 + per_worker)
        next_threshold = threshold[min(segment[i] + 1, top_segment)]
        to_quality = 0.5 if (firms.stage[i] != UPSTREAM) & (quality[i] < next_threshold) else 0.0
        exponent[i] = gain * (1 - to_quality)
        quality[i] = cap_at(quality[i] + gain * to_quality * (1 - quality[i]), 1.0)
        grow += _grows(utilisation[i], profit[i])
        shrink += _shrinks(utilisation[i], profit[i], workers[i])
    return exponent, grow, shrink


@kernel
def grow_and_staff(
    firms: Staffing, growth: np.ndarray, u_grow: np.ndarray, u_shrink: np.ndarray, p: Growth
) -> None:
    """Productivity grows by ``growth`` and depreciates (``p.kept``). Firms hire or lay off,
    rounded stochastically (one draw per growing, one per shrinking firm, in slot order); at
    least one worker stays.

    Both workforce outcomes are computed for every firm and one is selected: no branch on the
    (random) grow/shrink pattern."""
    productivity, workers = firms.productivity, firms.workers
    utilisation, profit = firms.utilisation, firms.profit
    kept, hiring_rate, management_span = p.kept, p.hiring_rate, p.management_span
    g = s = 0
    for i in range(len(workers)):
        productivity[i] = productivity[i] * (growth[i] * kept)
        w = workers[i]
        grows = _grows(utilisation[i], profit[i])
        shrinks = _shrinks(utilisation[i], profit[i], w)
        hired = w + np.floor(hiring_rate / (1 + w / management_span) * w + _draw(u_grow, g))
        fired = w - np.floor(p.firing_rate * w + _draw(u_shrink, s))
        w = hired if grows else (fired if shrinks else w)
        g += grows
        s += shrinks
        workers[i] = floor_at(w, 1.0)


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
def cluster_sum(cluster: np.ndarray, values: np.ndarray, n_clusters: int) -> np.ndarray:
    """``np.bincount(cluster, weights=values, minlength=n_clusters)``: each cluster's sum in
    slot order, from 0.0 (at 100k firms ~2x faster: bincount first copies the 32-bit clusters
    to 64-bit)."""
    total = np.zeros(n_clusters)
    for i in range(len(cluster)):
        total[cluster[i]] += values[i]
    return total


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


@kernel
def expected_entrants(
    cluster: np.ndarray, profit: np.ndarray, sales: np.ndarray, n_clusters: int, entry_rate: float
) -> np.ndarray:
    """Spin-offs a cluster can expect this quarter: ``entry_rate`` x its firms x its margin
    over 10% (at most 1); a cluster that sold nothing expects none. Empty slots (cluster -1)
    are left out. The same operations, in the same order, as the numpy expression it replaces
    (``np.where``, ``np.maximum``, ``np.clip``)."""
    count, total_profit, total_sales = cluster_totals(cluster, profit, sales, n_clusters)
    expected = np.empty(n_clusters)
    for c in range(n_clusters):
        sold = total_sales[c]
        margin = total_profit[c] / floor_at(sold, 1e-12) if sold > 0 else 0.0
        expected[c] = entry_rate * count[c] * clip_to(margin / 0.1, 0.0, 1.0)
    return expected


class Leavers(NamedTuple):
    """The firm columns ``leave`` reads and writes: the exit rule's (``cash``, ``loss_streak``),
    the ties to cut (``supplier``, ``trader``), the slot's hole columns (``alive``, ``cluster``,
    ``uid``: ``FirmState.release``) and entry's (``profit``, ``sales``)."""

    cash: np.ndarray
    loss_streak: np.ndarray  # written
    supplier: np.ndarray  # written
    trader: np.ndarray  # written
    alive: np.ndarray  # written
    cluster: np.ndarray  # written
    uid: np.ndarray  # written
    profit: np.ndarray
    sales: np.ndarray


@kernel
def leave(
    firms: Leavers,
    a: np.ndarray,
    b: np.ndarray,
    patience: int,
    n_clusters: int,
    entry_rate: float,
):
    """Exit and what follows it up to entry, in one call: who leaves (``leavers``), the
    vertical ties to them lapse (``cut_ties_to_dead``), the cooperation ties touching them are
    cut (``ties_without``, only when someone leaves), their slots are emptied as
    ``FirmState.release`` empties them, and the clusters' expected spin-offs are worked out
    without them (``expected_entrants``).

    Returns the leavers' slots, their ids, the cooperation ties left and the expected entrants
    per cluster."""
    leaving = leavers(firms.cash, firms.loss_streak, patience)
    retired = np.empty(len(leaving), dtype=np.int64)
    if len(leaving):
        # one spare False at the end: a column's -1 ("no partner") looks it up
        dead = np.zeros(len(firms.cash) + 1, dtype=np.bool_)
        for k in range(len(leaving)):
            dead[leaving[k]] = True
        cut_ties_to_dead(firms.supplier, dead)
        cut_ties_to_dead(firms.trader, dead)
        if len(a):
            a, b = ties_without(a, b, dead)
        for k in range(len(leaving)):
            i = leaving[k]
            retired[k] = firms.uid[i]
            firms.alive[i] = False
            firms.cluster[i] = -1
            firms.uid[i] = -1
    expected = expected_entrants(firms.cluster, firms.profit, firms.sales, n_clusters, entry_rate)
    return leaving, retired, a, b, expected


@kernel
def choose_by_shares(uniform: float, shares: np.ndarray) -> int:
    """The index ``Generator.choice(len(shares), p=shares)`` picks with the uniform it draws:
    numpy's method, step for step (cumulative sums of the shares, divided by the last; the
    number of them at or below the uniform, ``searchsorted(side="right")``)."""
    cumulative = np.empty(len(shares))
    total = 0.0
    for k in range(len(shares)):
        total += shares[k]
        cumulative[k] = total
    last = cumulative[-1]
    index = 0
    for k in range(len(shares)):
        index += cumulative[k] / last <= uniform
    return index


class Entrants(NamedTuple):
    """The firm columns ``settle_entrants`` writes (``quality`` is also read: its cluster means)."""

    cluster: np.ndarray
    stage: np.ndarray
    workers: np.ndarray
    quality: np.ndarray
    knowledge: np.ndarray
    absorptive: np.ndarray
    cash: np.ndarray
    segment: np.ndarray


class EntrantTraits(NamedTuple):
    """The parameters of an entrant's starting traits."""

    market_knowledge_mean: float
    absorptive_mean: float
    cash_buffer: float


@kernel
def settle_entrants(
    firms: Entrants,
    slots: np.ndarray,
    cluster_of: np.ndarray,
    stage_draw: np.ndarray,
    stage_shares: np.ndarray,
    hires: np.ndarray,
    noise: np.ndarray,
    log_productivity: np.ndarray,
    n_clusters: int,
    traits: EntrantTraits,
) -> np.ndarray:
    """Entrants in ``slots`` join ``cluster_of``: a spin-off starts near its cluster's mean
    (log) productivity and quality, a little behind, with ``1 + hires`` workers and the cash
    buffer they need; returns each entrant's log productivity (numpy takes its exponential).

    ``stage_draw`` (a uniform each) picks the stage by ``stage_shares`` as
    ``Generator.choice(3, p=stage_shares)`` does from the same uniform (``choose_by_shares``);
    ``hires`` are the entrants' Poisson draws, ``noise`` four rows of standard normals
    (productivity, quality, knowledge, absorptive capacity). Cluster means are of incumbents
    (new slots still have cluster -1), as the numpy code had them."""
    count, total_log, total_quality = cluster_totals(
        firms.cluster, log_productivity, firms.quality, n_clusters
    )
    exponent = np.empty(len(slots))
    for j in range(len(slots)):
        i, c = slots[j], cluster_of[j]
        incumbents = max(count[c], 1)
        firms.cluster[i] = c
        firms.stage[i] = choose_by_shares(stage_draw[j], stage_shares)
        firms.workers[i] = 1.0 + hires[j]
        exponent[j] = total_log[c] / incumbents - 0.1 + 0.15 * noise[0, j]
        quality = total_quality[c] / incumbents - 0.05 + 0.05 * noise[1, j]
        firms.quality[i] = clip_to(quality, 0.01, 0.95)
        knowledge = traits.market_knowledge_mean + 0.1 * noise[2, j]
        firms.knowledge[i] = clip_to(knowledge, 0.01, 0.99)
        absorptive = traits.absorptive_mean + 0.15 * noise[3, j]
        firms.absorptive[i] = clip_to(absorptive, 0.01, 0.99)
        firms.cash[i] = traits.cash_buffer * firms.workers[i]
        firms.segment[i] = 0
    return exponent
