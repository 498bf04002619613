"""Compiled per-firm loops behind ``sim.model.support`` and ``sim.model.government``: needs,
take-up, what each instrument does, and the per-cluster sums a planning round reads.

Sums per cluster add firms in slot order, as ``np.bincount`` does. ``exp`` and random draws stay
with the callers, in numpy (``sim.model.kernels.compiled`` says why). Comparisons are written so
that NaN passes through as it does in ``np.maximum``/``np.minimum``/``np.clip``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import cap_at, clip_to, floor_at, kernel
from sim.model.kernels.sums import pairwise_std, pairwise_sum
from sim.scenario.codes import COACHING, CREDIT, EQUIPMENT, LINKAGE, N_INSTRUMENTS


class Effects(NamedTuple):
    """What a dose of each instrument costs and does (``sim.model.support.effects``)."""

    coaching_dose_cost: float
    coaching_effect: float
    coaching_quality_effect: float
    linkage_dose_cost: float
    linkage_visibility: float
    linkage_knowledge: float
    max_grant_per_worker: float


class Recipients(NamedTuple):
    """The firm columns support reads or changes (views of ``model.firms``; written in place)."""

    cluster: np.ndarray  # read
    workers: np.ndarray  # read
    absorptive: np.ndarray
    quality: np.ndarray
    knowledge: np.ndarray
    visibility: np.ndarray
    cash: np.ndarray
    equipment: np.ndarray
    support: np.ndarray
    support_total: np.ndarray


class Delivery(NamedTuple):
    """How support is delivered and taken up (``sim.model.government.deliver``)."""

    leakage: float  # share of an allocation lost where regional capacity is nil
    voluntary: bool  # firms apply (and take everything) rather than being enrolled
    takeup_cost: float  # what a need must outweigh for a firm to show up
    cofinance: float  # the firm's share of what it receives (0 unless voluntary)


@kernel
def _unit(x: float) -> float:
    """``np.clip(x, 0, 1)`` (NaN stays NaN); two selects, no branch to mispredict."""
    return cap_at(floor_at(x, 0.0), 1.0)


@kernel
def equipped(nominal: float, equipment: float, workers: float, effect: float) -> float:
    """Capacity ``nominal`` (workers x output per worker) raised by the firm's machine stock,
    with diminishing returns to the stock per worker: ``nominal x (1 + effect x e / (1 + e))``,
    ``e = equipment / max(workers, 1)``. Without machines (``e = 0``) it is ``nominal`` exactly.
    """
    e = equipment / floor_at(workers, 1.0)
    return nominal * (1 + effect * e / (1 + e))


@kernel
def equipped_capacities(
    nominal: np.ndarray, equipment: np.ndarray, workers: np.ndarray, effect: float
) -> np.ndarray:
    """``equipped`` for every firm."""
    capacity = np.empty(len(nominal))
    for i in range(len(nominal)):
        capacity[i] = equipped(nominal[i], equipment[i], workers[i], effect)
    return capacity


# ---- what firms need --------------------------------------------------------------------------
@kernel
def group_by_product(
    cluster: np.ndarray,
    cluster_product: np.ndarray,
    productivity: np.ndarray,
    size: np.ndarray,
    n_products: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Productivity grouped by the firm's product (a counting sort) and each group's bounds:
    product p's firms are ``grouped[bounds[p]:bounds[p + 1]]``. ``size``: firms per cluster
    (``firms_per_cluster``), so the firms need not be counted again."""
    bounds = np.zeros(n_products + 1, dtype=np.int64)
    for c in range(len(size)):
        bounds[cluster_product[c] + 1] += size[c]
    for p in range(n_products):
        bounds[p + 1] += bounds[p]
    fill = bounds[:-1].copy()
    grouped = np.empty(len(cluster))
    for i in range(len(cluster)):
        p = cluster_product[cluster[i]]
        at = fill[p]
        fill[p] = at + 1  # before the store to grouped, so it need not be read back (2x faster)
        grouped[at] = productivity[i]
    return grouped, bounds


@kernel
def _partition(values: np.ndarray, low: int, high: int) -> int:
    """Partition ``values[low:high + 1]`` (no NaN) around the median of its first, middle and
    last values; return where that pivot ends (smaller values before, larger after). The
    pattern of swaps is numba's ``np.partition``'s, which keeps sorted, reverse-sorted and
    uniform runs from the quadratic worst case."""
    mid = (low + high) >> 1
    if values[mid] < values[low]:
        values[low], values[mid] = values[mid], values[low]
    if values[high] < values[mid]:
        values[high], values[mid] = values[mid], values[high]
    if values[mid] < values[low]:
        values[low], values[mid] = values[mid], values[low]
    pivot = values[mid]
    values[high], values[mid] = values[mid], values[high]
    i, j = low, high - 1
    while True:
        while i < high and values[i] < pivot:
            i += 1
        while j >= low and pivot < values[j]:
            j -= 1
        if i >= j:
            break
        values[i], values[j] = values[j], values[i]
        i += 1
        j -= 1
    values[i], values[high] = values[high], values[i]
    return i


@kernel
def quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of a non-empty array (numpy's default "linear" method),
    reordering ``values`` in place.

    The two order statistics around the virtual index ``(n - 1) q`` do not depend on how they
    are found (here a quickselect of the lower, then the least value above it), and their
    interpolation repeats numpy's ``_lerp`` operation for operation. Where numpy's index is
    past the end it takes the maximum, with floor(index) counted as -1. Any NaN makes the
    result NaN, as in numpy (``tests/test_exact_government.py`` checks all of it).
    """
    n = len(values)
    for i in range(n):
        if np.isnan(values[i]):
            return values[i]
    virtual = (n - 1) * q
    if virtual >= n - 1:
        below = values[0]
        for i in range(1, n):
            below = values[i] if values[i] > below else below
        above = below
        previous = -1.0
    else:
        previous = np.floor(virtual)
        k = int(previous)
        low, high = 0, n - 1
        while True:
            at = _partition(values, low, high)
            if at == k:
                break
            if at < k:
                low = at + 1
            else:
                high = at - 1
        below = values[k]
        above = values[k + 1]
        for i in range(k + 2, n):
            above = values[i] if values[i] < above else above
    t = virtual - previous
    difference = above - below
    return above - difference * (1 - t) if t >= 0.5 else below + difference * t


# A product with this many firms or more has its quantile taken by numpy: its partition is
# SIMD, ~1.2 ns a value against the quickselect's ~10 (which mispredicts every other
# comparison); below it, the ~5 us of calling numpy cost more than the quickselect.
NUMPY_QUANTILE_FROM = 400


@kernel
def frontiers(
    cluster: np.ndarray,
    cluster_product: np.ndarray,
    productivity: np.ndarray,
    size: np.ndarray,
    n_products: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each product's productivity frontier: the 90th percentile of its firms' productivity
    (``quantile``), 1 where it has none. ``size``: firms per cluster.

    Products with ``NUMPY_QUANTILE_FROM`` firms or more are left to the caller (frontier NaN):
    returns (frontier, productivity grouped by product, the groups' bounds, how many were
    left), as ``group_by_product`` groups them.
    """
    grouped, bounds = group_by_product(cluster, cluster_product, productivity, size, n_products)
    frontier = np.ones(n_products)
    left = 0
    for p in range(n_products):
        n = bounds[p + 1] - bounds[p]
        if n >= NUMPY_QUANTILE_FROM:
            frontier[p] = np.nan
            left += 1
        elif n > 0:
            frontier[p] = quantile(grouped[bounds[p] : bounds[p + 1]], 0.9)
    return frontier, grouped, bounds, left


@kernel
def sizes_and_frontiers(
    cluster: np.ndarray, cluster_product: np.ndarray, productivity: np.ndarray, n_products: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Firms per cluster (``firms_per_cluster``) and ``frontiers``' results."""
    size = firms_per_cluster(cluster, len(cluster_product))
    frontier, grouped, bounds, left = frontiers(
        cluster, cluster_product, productivity, size, n_products
    )
    return size, frontier, grouped, bounds, left


@kernel
def gap_to_frontier(
    productivity: np.ndarray,
    cluster: np.ndarray,
    cluster_product: np.ndarray,
    frontier: np.ndarray,
) -> np.ndarray:
    """``clip(1 - productivity / frontier of the firm's product, 0, 1)`` per firm."""
    gap = np.empty(len(productivity))
    for i in range(len(productivity)):
        gap[i] = _unit(1 - productivity[i] / frontier[cluster_product[cluster[i]]])
    return gap


@kernel
def _needs_of(
    gap: float, absorptive: float, utilisation: float, cash: float, workers: float, buffer: float
) -> tuple[float, float, float, float]:
    """One firm's true need for coaching, equipment, linkage and credit, 0..1."""
    return (
        gap * absorptive,
        _unit((utilisation - 0.85) / 0.15),
        _unit((0.85 - utilisation) / 0.85),
        _unit(1 - cash / floor_at(buffer * workers, 1e-9)),
    )


class NeedsInputs(NamedTuple):
    """The firm columns a needs assessment reads (views of ``model.firms``)."""

    cluster: np.ndarray
    productivity: np.ndarray
    absorptive: np.ndarray
    utilisation: np.ndarray
    cash: np.ndarray
    workers: np.ndarray
    knowledge: np.ndarray
    member: np.ndarray


@kernel
def assess_needs(
    firms: NeedsInputs,
    cluster_product: np.ndarray,
    frontier: np.ndarray,
    cash_buffer: float,
    asking: np.ndarray,
    perception_noise: float,
    perceived: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Everything a quarter of government reads off the firms' needs, in one pass over them.

    Per firm: its gap to the frontier (``gap_to_frontier``) and true needs (``_needs_of``),
    added to its cluster's sums over all firms and over members (in slot order, as
    ``np.bincount``). A firm of a cluster in ``asking`` also turns its row of standard normal
    draws ``perceived`` into its perceived needs (the true need plus noise that shrinks with
    market knowledge) and is listed in ``asked`` (in slot order, as
    ``np.flatnonzero(asking[cluster])``). The needs array itself is never stored: a pass
    writing it and another reading it back cost more than this one (measured 1.1 -> 0.65 ms at
    105k firms, although its divisions cannot use SIMD, as the per-cluster sums are scattered).

    The asked firms' true needs are kept too (``need``, rows as ``perceived``): delivery
    measures by them how far support met members' needs (``grant``).

    Workers are summed per cluster on the way (as ``sums_by_cluster``): an open pot's
    requests are priced by the cluster's mean firm size (``package_costs``).

    Returns (gap per slot, needs per cluster, members' needs per cluster, asked slots, the
    asked firms' true needs, workers per cluster).
    """
    n_clusters = len(asking)
    gap = np.empty(len(firms.cluster))
    workers = np.zeros(n_clusters)
    everyone = np.zeros((n_clusters, N_INSTRUMENTS))
    members = np.zeros((n_clusters, N_INSTRUMENTS))
    asked = np.empty(len(perceived), dtype=np.int64)
    need = np.empty((len(perceived), N_INSTRUMENTS))
    row = 0
    for i in range(len(firms.cluster)):
        c = firms.cluster[i]
        gap[i] = _unit(1 - firms.productivity[i] / frontier[cluster_product[c]])
        needs = _needs_of(
            gap[i],
            firms.absorptive[i],
            firms.utilisation[i],
            firms.cash[i],
            firms.workers[i],
            cash_buffer,
        )
        workers[c] += firms.workers[i]
        member = firms.member[i]
        for j in range(N_INSTRUMENTS):
            everyone[c, j] += needs[j]
            members[c, j] += needs[j] if member else 0.0  # (+0.0 leaves any sum as it was)
        if asking[c]:
            noise = perception_noise * (1 - firms.knowledge[i])
            for j in range(N_INSTRUMENTS):
                perceived[row, j] = perceived[row, j] * noise + needs[j]
                need[row, j] = needs[j]
            asked[row] = i
            row += 1
    return gap, everyone, members, asked, need, workers


# ---- per-cluster sums -------------------------------------------------------------------------
@kernel
def sums_by_cluster(
    cluster: np.ndarray, values: np.ndarray, mask: np.ndarray, n_clusters: int
) -> np.ndarray:
    """Column sums of ``values`` [slot, k] over each cluster's firms where ``mask`` holds."""
    sums = np.zeros((n_clusters, values.shape[1]))
    for i in range(len(cluster)):
        if mask[i]:
            for j in range(values.shape[1]):
                sums[cluster[i], j] += values[i, j]
    return sums


@kernel
def _row_sum(values: np.ndarray, row: int) -> float:
    """``values[row].sum()`` of a row of four: left to right, as numpy adds a short axis."""
    return ((values[row, 0] + values[row, 1]) + values[row, 2]) + values[row, 3]


@kernel
def _shares(total: np.ndarray, c: int, j: int, base: np.ndarray) -> float:
    """Cluster ``c``'s share of instrument ``j`` in ``total``; ``base`` where it has none."""
    row = _row_sum(total, c)
    return total[c, j] / floor_at(row, 1e-12) if row > 0 else base[j]


@kernel
def blend_mix(
    needs: np.ndarray,
    member_needs: np.ndarray,
    base: np.ndarray,
    planning_quality: float,
    needs_from_firms: float,
    legitimacy: np.ndarray,
    coordinator: np.ndarray,
) -> np.ndarray:
    """Instrument shares per cluster (``sim.model.government.blend_mix``), from needs summed per
    cluster over all firms and over members."""
    n_clusters, n_instruments = needs.shape
    mix = np.empty((n_clusters, n_instruments))
    for c in range(n_clusters):
        for j in range(n_instruments):
            planner = (1 - planning_quality) * base[j] + planning_quality * _shares(
                needs, c, j, base
            )
            relay = (
                legitimacy[c] * _shares(member_needs, c, j, base) + (1 - legitimacy[c]) * base[j]
            )
            relayed = relay if coordinator[c] > 0 else planner
            mix[c, j] = needs_from_firms * relayed + (1 - needs_from_firms) * planner
        total = _row_sum(mix, c)
        for j in range(n_instruments):
            mix[c, j] /= total
    return mix


@kernel
def firms_per_cluster(cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """How many slots each cluster has (``np.bincount(cluster, minlength=n_clusters)``)."""
    size = np.zeros(n_clusters, dtype=np.int64)
    for i in range(len(cluster)):
        size[cluster[i]] += 1
    return size


@kernel
def plan_totals(
    cluster: np.ndarray,
    quality: np.ndarray,
    cuts: np.ndarray,
    value_added: np.ndarray,
    workers: np.ndarray,
    n_clusters: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a planning round reads of the firms, per cluster, in one pass: firms, firms whose
    quality reaches each segment (``quality >= cuts[s]``, as floats), value added and workers
    (summed in slot order, as ``np.bincount`` and ``sums_by_cluster`` add them).

    Reach is counted in integers (faster to add than floats): a float sum of ones is the same
    exact count.
    """
    size = np.zeros(n_clusters, dtype=np.int64)
    reach = np.zeros((n_clusters, len(cuts)), dtype=np.int64)
    value = np.zeros(n_clusters)
    employed = np.zeros(n_clusters)
    for i in range(len(cluster)):
        c = cluster[i]
        size[c] += 1
        for s in range(len(cuts)):
            reach[c, s] += quality[i] >= cuts[s]
        value[c] += value_added[i]
        employed[c] += workers[i]
    return size, reach.astype(np.float64), value, employed


# ---- planning ---------------------------------------------------------------------------------
@kernel
def standardised(values: np.ndarray) -> np.ndarray:
    """``(values - values.mean()) / values.std()``, zeros where the spread is 0 (or NaN), with
    numpy's mean and std to the bit (``pairwise_sum``, ``pairwise_std``)."""
    n = len(values)
    z = np.zeros(n)
    sd = pairwise_std(values)
    if sd > 0:
        mean = pairwise_sum(values) / n
        for i in range(n):
            z[i] = (values[i] - mean) / sd
    return z


@kernel
def potential(log_size: np.ndarray, tradition: np.ndarray) -> np.ndarray:
    """``sim.model.government.known_potential``: log size and tradition, each standardised,
    added and standardised again."""
    return standardised(standardised(log_size) + standardised(tradition))


@kernel
def opportunity(
    reach: np.ndarray, growth: np.ndarray, cluster_product: np.ndarray, niche_growth: np.ndarray
) -> np.ndarray:
    """``sim.model.government.true_opportunity``: each cluster's reach per segment as shares
    of its row (summed left to right, as numpy adds a short row; at least 1e-12) weighting its
    product's demand ``growth`` per segment (products added left to right), plus its
    ``niche_growth``."""
    n_clusters, n_segments = reach.shape
    result = np.empty(n_clusters)
    for c in range(n_clusters):
        total = reach[c, 0]
        for s in range(1, n_segments):
            total += reach[c, s]
        total = floor_at(total, 1e-12)
        p = cluster_product[c]
        weighted = (reach[c, 0] / total) * growth[p, 0]
        for s in range(1, n_segments):
            weighted += (reach[c, s] / total) * growth[p, s]
        result[c] = weighted + niche_growth[c]
    return result


@kernel
def selection_scores(
    log_size: np.ndarray,
    tradition: np.ndarray,
    opportunity: np.ndarray,
    noise: np.ndarray,
    planning_quality: float,
    noise_scale: float,
    market_attention: float,
) -> np.ndarray:
    """``sim.model.government.selection_score``: known potential (``potential``) and an estimate
    of market opportunity (``planning_quality`` x its z-score + ``noise_scale`` x ``noise``),
    weighted by market attention."""
    known = potential(log_size, tradition)
    signal = standardised(opportunity)
    score = np.empty(len(known))
    for c in range(len(known)):
        estimate = planning_quality * signal[c] + noise_scale * noise[c]
        score[c] = (1 - market_attention) * known[c] + market_attention * estimate
    return score


@kernel
def monitoring_scores(
    support_since_plan: np.ndarray,
    at_plan: np.ndarray,
    value_added: np.ndarray,
    workers: np.ndarray,
    capacity: np.ndarray,
    region: np.ndarray,
    monitoring: float,
    reallocation_rate: float,
    draws: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The clusters monitoring observes (supported since the plan, where the uniform ``draws``
    fall below ``monitoring`` x their region's capacity, with a value added per worker at the
    plan) and the logs of their weights' change: ``reallocation_rate`` x their performance
    (value added per worker now / at the plan - 1) standardised and clipped to [-2, 2]."""
    n = len(at_plan)
    observed = np.empty(n, dtype=np.int64)
    m = 0
    for c in range(n):
        seen = draws[c] < monitoring * capacity[region[c]]
        if support_since_plan[c] > 0 and seen and not np.isnan(at_plan[c]):
            observed[m] = c
            m += 1
    performance = np.empty(m)
    for j in range(m):
        c = observed[j]
        now = value_added[c] / floor_at(workers[c], 1e-9)
        performance[j] = now / floor_at(at_plan[c], 1e-9) - 1
    score = standardised(performance)
    logs = np.empty(m)
    for j in range(m):
        logs[j] = reallocation_rate * clip_to(score[j], -2.0, 2.0)
    return observed[:m], logs


@kernel
def reweigh(
    weight: np.ndarray, observed: np.ndarray, factor: np.ndarray, support_since_plan: np.ndarray
) -> np.ndarray:
    """Multiply the ``observed`` clusters' weights by ``factor`` (in place), then return all
    weights over the supported clusters' mean weight, clipped to [0.05, 20]."""
    for j in range(len(observed)):
        weight[observed[j]] *= factor[j]
    supported = np.empty(len(weight))
    m = 0
    for c in range(len(weight)):
        if support_since_plan[c] > 0:
            supported[m] = weight[c]
            m += 1
    mean = pairwise_sum(supported[:m]) / m
    reweighed = np.empty(len(weight))
    for c in range(len(weight)):
        reweighed[c] = clip_to(weight[c] / mean, 0.05, 20.0)
    return reweighed


# ---- applying and delivery --------------------------------------------------------------------
@kernel
def mark_applicants(
    applicant: np.ndarray,
    asked: np.ndarray,
    cluster: np.ndarray,
    member: np.ndarray,
    perceived: np.ndarray,
    mix: np.ndarray,
    participation_cost: float,
) -> np.ndarray:
    """Firms apply where the perceived needs, weighted by their cluster's mix, outweigh the cost
    of taking part (the four products added left to right, as ``.sum(axis=1)`` would).

    Returns the applying members per cluster, as floats: what ``cluster_sums`` of ``applicant``
    over members gives, since only asked firms can apply (a sum of ones is exact).
    """
    applying_members = np.zeros(len(mix))
    for row in range(len(asked)):
        slot = asked[row]
        c = cluster[slot]
        usefulness = perceived[row, 0] * mix[c, 0] + perceived[row, 1] * mix[c, 1]
        usefulness = usefulness + perceived[row, 2] * mix[c, 2]
        usefulness = usefulness + perceived[row, 3] * mix[c, 3]
        applies = usefulness > participation_cost
        applicant[slot] = applies
        applying_members[c] += 1.0 if applies and member[slot] else 0.0
    return applying_members


class Allocating(NamedTuple):
    """What a quarter's mix and allocation read of the policy (``sim.model.government``)."""

    planning_quality: float
    needs_from_firms: float
    participation_cost: float  # what a perceived need must outweigh for a firm to apply
    budget: float  # the money to allocate this quarter
    open_share: float  # of it, the pot any organised cluster may apply for
    request_factor: float  # 1 - co-financing share x voluntary: the public part of a request
    coaching_dose_cost: float
    linkage_dose_cost: float
    max_grant_per_worker: float


@kernel
def package_costs(
    mix: np.ndarray, workers: np.ndarray, size: np.ndarray, terms: Allocating
) -> np.ndarray:
    """What one firm of each cluster can use of its instrument mix in a quarter
    (``sim.model.government.package_cost``): a coaching dose, a linkage dose, and equipment
    and credit up to ``max_grant_per_worker`` per worker at the cluster's mean firm size
    (``workers`` summed per cluster / ``size``), weighted by the mix (the four products added
    left to right, as numpy adds a row of four)."""
    cost = np.empty(len(mix))
    per_firm = np.empty(N_INSTRUMENTS)
    for c in range(len(mix)):
        mean_workers = workers[c] / max(size[c], 1)
        per_firm[COACHING] = terms.coaching_dose_cost
        per_firm[LINKAGE] = terms.linkage_dose_cost
        per_firm[EQUIPMENT] = terms.max_grant_per_worker * mean_workers
        per_firm[CREDIT] = terms.max_grant_per_worker * mean_workers
        total = mix[c, 0] * per_firm[0] + mix[c, 1] * per_firm[1]
        total = total + mix[c, 2] * per_firm[2]
        cost[c] = total + mix[c, 3] * per_firm[3]
    return cost


@kernel
def allocation(
    selected: np.ndarray,
    weight: np.ndarray,
    coordinator: np.ndarray,
    applying_members: np.ndarray,
    package: np.ndarray,
    terms: Allocating,
) -> np.ndarray:
    """Budget per cluster (``sim.model.government.allocate``): the selected clusters' pot
    shared by weight, then the open pot by ``fill_requests`` among organised clusters, each
    requesting a ``package`` (per cluster) for each applying member, net of co-financing.
    Totals are numpy's (``pairwise_sum``), the arithmetic in numpy's order."""
    n = len(weight)
    allocation = np.zeros(n)
    selected_weight = np.empty(n)
    for c in range(n):
        selected_weight[c] = weight[c] if selected[c] else 0.0
    total = pairwise_sum(selected_weight)
    if total > 0:
        scale = terms.budget * (1 - terms.open_share)
        for c in range(n):
            allocation[c] += scale * selected_weight[c] / total
    if terms.open_share > 0:
        request = np.empty(n)
        for c in range(n):
            applying = applying_members[c] if coordinator[c] > 0 else 0.0
            request[c] = applying * (package[c] * terms.request_factor)
        filled = fill_requests(terms.budget * terms.open_share, weight, request)
        for c in range(n):
            allocation[c] += filled[c]
    return allocation


class Apportioning(NamedTuple):
    """The cluster columns ``apportion`` reads (views of ``model.clusters``)."""

    legitimacy: np.ndarray
    coordinator: np.ndarray
    selected: np.ndarray
    weight: np.ndarray


@kernel
def apportion(
    clusters: Apportioning,
    needs: np.ndarray,
    member_needs: np.ndarray,
    workers: np.ndarray,
    size: np.ndarray,
    asked: np.ndarray,
    perceived: np.ndarray,
    cluster: np.ndarray,
    member: np.ndarray,
    base: np.ndarray,
    terms: Allocating,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A quarter's mix (``blend_mix``), applicants (``mark_applicants``) and allocation
    (``package_costs`` where there is an open pot, ``allocation``) in one call, from needs and
    workers per cluster and the asked firms' perceived needs (``assess_needs``).

    Returns (mix per [cluster, instrument], applicant per slot, allocation per cluster).
    """
    mix = blend_mix(
        needs,
        member_needs,
        base,
        terms.planning_quality,
        terms.needs_from_firms,
        clusters.legitimacy,
        clusters.coordinator,
    )
    applicant = np.zeros(len(cluster), dtype=np.bool_)
    applying_members = mark_applicants(
        applicant, asked, cluster, member, perceived, mix, terms.participation_cost
    )
    if terms.open_share > 0:
        package = package_costs(mix, workers, size, terms)
    else:
        package = np.zeros(len(size))
    budget = allocation(
        clusters.selected, clusters.weight, clusters.coordinator, applying_members, package, terms
    )
    return mix, applicant, budget


@kernel
def dose_cost(effects: Effects, instrument: int, workers: float) -> float:
    """Most a firm can absorb of an instrument in one quarter, in wage units."""
    if instrument == COACHING:
        return effects.coaching_dose_cost
    if instrument == LINKAGE:
        return effects.linkage_dose_cost
    return effects.max_grant_per_worker * floor_at(workers, 1.0)


@kernel
def take_support(
    firms: Recipients,
    effects: Effects,
    slots: np.ndarray,
    instruments: np.ndarray,
    amounts: np.ndarray,
    gaps: np.ndarray,
) -> np.ndarray:
    """What ``amounts[k]`` (wage units) of instrument ``instruments[k]`` does to the state of
    firm ``slots[k]``, for each k in order (``gaps[k]``: its distance to the frontier).

    Returns the logs of their productivity growth, which the caller applies with numpy's exp:
    coaching pays where the firm is far from the frontier (``gap``) and can absorb it. Equipment
    adds to the firm's machine stock, which raises its capacity (``equipped``), not its labour
    productivity, and costs upkeep (``sim.model.kernels.firms.settle``): it pays only where the
    firm has orders beyond its capacity.

    (One call for many firms, with the columns taken out of the bundle once: called per firm,
    every call took a reference to each column and let it go, ~150 ns a grant.)
    """
    absorptive, quality, knowledge = firms.absorptive, firms.quality, firms.knowledge
    equipment, visibility, cash = firms.equipment, firms.visibility, firms.cash
    support, support_total = firms.support, firms.support_total
    growth = np.zeros(len(slots))
    for k in range(len(slots)):
        slot, instrument, amount = slots[k], instruments[k], amounts[k]
        if instrument == COACHING:
            dose = amount / effects.coaching_dose_cost
            growth[k] = effects.coaching_effect * dose * absorptive[slot] * gaps[k]
            quality[slot] += (
                effects.coaching_quality_effect * dose * absorptive[slot] * (1 - quality[slot])
            )
            knowledge[slot] += 0.05 * dose * (1 - knowledge[slot])
        elif instrument == EQUIPMENT:
            equipment[slot] += amount
        elif instrument == LINKAGE:
            dose = amount / effects.linkage_dose_cost
            visibility[slot] += effects.linkage_visibility * dose
            knowledge[slot] += effects.linkage_knowledge * dose * (1 - knowledge[slot])
        elif instrument == CREDIT:
            cash[slot] += amount
        support[slot] += amount
        support_total[slot] += amount
    return growth


@kernel
def support_firms(
    firms: Recipients,
    effects: Effects,
    slots: np.ndarray,
    instrument: int,
    amount: np.ndarray,
    gap: np.ndarray,
) -> np.ndarray:
    """``take_support`` of one instrument for each of ``slots`` (``gap``: theirs, or empty
    unless coaching); returns the logs of their productivity growth (zero but for coaching)."""
    gaps = gap if instrument == COACHING else np.zeros(len(slots))
    instruments = np.full(len(slots), instrument, dtype=np.int64)
    return take_support(firms, effects, slots, instruments, amount, gaps)


@kernel
def leaked_in_delivery(
    allocation: np.ndarray, region: np.ndarray, capacity: np.ndarray, leakage: float, c: int
) -> float:
    """What cluster ``c`` loses of its allocation in delivery, where its region's capacity is
    low (``allocation x leakage x (1 - capacity)``, multiplied left to right)."""
    return allocation[c] * leakage * (1 - capacity[region[c]])


@kernel
def _choose(
    asked: np.ndarray,
    perceived: np.ndarray,
    cluster: np.ndarray,
    applicant: np.ndarray,
    delivered: np.ndarray,
    pot: np.ndarray,
    terms: Delivery,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Who receives each instrument among the firms ``asked`` (``perceived``: their perceived
    needs; ``cluster`` and ``applicant``: per slot; ``delivered``: per cluster; ``pot``: per
    [cluster, instrument]).

    Voluntary: applicants in supported clusters take everything. Otherwise every firm of a
    supported cluster gets equipment and credit, and shows up for coaching and linkage only if
    it looks useful. Take-up counts firm-instrument pairs, every instrument alike: each firm is
    offered each instrument whose pot in its cluster is positive, and takes it up where it
    receives it. Returns (receives [row, instrument], recipients per [cluster, instrument],
    pairs offered, pairs taken up).
    """
    n_clusters, n_instruments = pot.shape
    receives = np.zeros((len(asked), n_instruments), dtype=np.bool_)
    recipients = np.zeros((n_clusters, n_instruments), dtype=np.int64)
    offered = taken = 0
    for row in range(len(asked)):
        c = cluster[asked[row]]
        if not delivered[c] > 0:
            continue
        for i in range(n_instruments):
            if terms.voluntary:
                receiving = applicant[asked[row]]
            else:
                receiving = perceived[row, i] > terms.takeup_cost or i in (EQUIPMENT, CREDIT)
            receives[row, i] = receiving
            recipients[c, i] += receiving
            on_offer = pot[c, i] > 0
            offered += on_offer
            taken += receiving and on_offer
    return receives, recipients, offered, taken


@kernel
def _grant(
    firms: Recipients,
    effects: Effects,
    asked: np.ndarray,
    receives: np.ndarray,
    share: np.ndarray,
    cofinance: float,
    gap: np.ndarray,
    need: np.ndarray,
    member: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give each recipient (a row of ``receives``: a slot in ``asked`` and an instrument) its
    ``share`` of its cluster's pot, up to what it can absorb, topped up by its own
    co-financing, and let the support take effect (``gap``: per slot).

    Firm by firm, instruments in order: each firm's state sees the instruments in the same
    order as instrument by instrument, and no firm's support depends on another's state.

    Needs met: a member (``member``: per slot) that receives an instrument has its true need
    for it (``need``: per row of ``asked``, as assessed before delivery; empty if unknown) met
    in proportion to the doses it received (amount / ``dose_cost``: a full coaching or linkage
    dose, or as much equipment or credit as it can put to use), capped at the need.

    Returns (public money per [cluster, instrument], coaching's recipients (slots, in order)
    and the logs of their productivity growth, members' needs met per cluster: summed over
    members and instruments, in the units of ``assess_needs``' needs).
    """
    n_clusters, n_instruments = share.shape
    public_spent = np.zeros((n_clusters, n_instruments))
    met = np.zeros(n_clusters)
    known_need = len(need) == len(asked)
    cluster, workers, cash = firms.cluster, firms.workers, firms.cash
    # what each recipient gets, then (take_support, in the same firm-by-firm, instrument by
    # instrument order) what it does: only credit's effect touches cash, after every
    # co-financing payment of the firm, as when effect followed payment instrument by instrument
    slots = np.empty(len(asked) * n_instruments, dtype=np.int64)
    instruments = np.empty(len(slots), dtype=np.int64)
    amounts = np.empty(len(slots))
    gaps = np.empty(len(slots))
    n = 0
    for row in range(len(asked)):
        slot = asked[row]
        c = cluster[slot]
        for i in range(n_instruments):
            if not receives[row, i]:
                continue
            absorbable = dose_cost(effects, i, workers[slot])
            public = cap_at(share[c, i], absorbable * (1 - cofinance))
            total = public / (1 - cofinance)
            cash[slot] -= total - public
            slots[n], instruments[n], amounts[n], gaps[n] = slot, i, total, gap[slot]
            n += 1
            public_spent[c, i] += public
            if known_need and member[slot]:
                met[c] += need[row, i] * cap_at(total / absorbable, 1.0)
    logs = take_support(firms, effects, slots[:n], instruments[:n], amounts[:n], gaps[:n])
    n_coached = 0
    for k in range(n):
        n_coached += instruments[k] == COACHING
    coached = np.empty(n_coached, dtype=np.int64)
    coaching_logs = np.empty(n_coached)
    n_coached = 0
    for k in range(n):
        if instruments[k] == COACHING:
            coached[n_coached], coaching_logs[n_coached] = slots[k], logs[k]
            n_coached += 1
    return public_spent, coached, coaching_logs, met


class Delivered(NamedTuple):
    """What a quarter's delivery did (``deliver``)."""

    spent: np.ndarray  # per cluster: public money received plus what leaked on the way
    coached: np.ndarray  # slots of coaching's recipients, ascending
    coaching_logs: np.ndarray  # their log productivity growth (numpy's exp applies it)
    needs_met: np.ndarray  # per cluster: members' needs met / their total need (or empty)
    offered: int  # firm-instrument pairs on offer
    taken: int  # of which taken up


@kernel
def deliver(
    firms: Recipients,
    effects: Effects,
    terms: Delivery,
    allocation: np.ndarray,
    mix: np.ndarray,
    region: np.ndarray,
    capacity: np.ndarray,
    asked: np.ndarray,
    perceived: np.ndarray,
    applicant: np.ndarray,
    gap: np.ndarray,
    need: np.ndarray,
    member_needs: np.ndarray,
    member: np.ndarray,
) -> Delivered:
    """A quarter's delivery (``sim.model.government.deliver``) in one call: leakage, each
    cluster's pot per instrument (``mix`` of what arrives), who receives (``_choose``), equal
    shares of a pot among its recipients, the grants and their effects (``_grant``), and what
    was spent per cluster.

    ``region`` (per cluster) and ``capacity`` (per region) set leakage. ``need`` and
    ``member_needs`` (from ``assess_needs``; empty arrays if unknown) give ``needs_met``:
    members' needs met / their total need (the row sum of ``member_needs``, left to right as
    numpy adds a row of four), 0 where they need nothing. Spent: leakage plus the public money
    of each instrument someone received, instrument by instrument.
    """
    n_clusters, n_instruments = mix.shape
    leaked = np.empty(n_clusters)
    delivered = np.empty(n_clusters)
    pot = np.empty((n_clusters, n_instruments))
    for c in range(n_clusters):
        leaked[c] = leaked_in_delivery(allocation, region, capacity, terms.leakage, c)
        delivered[c] = allocation[c] - leaked[c]
        for i in range(n_instruments):
            pot[c, i] = delivered[c] * mix[c, i]
    receives, recipients, offered, taken = _choose(
        asked, perceived, firms.cluster, applicant, delivered, pot, terms
    )
    share = np.empty((n_clusters, n_instruments))
    for c in range(n_clusters):
        for i in range(n_instruments):
            share[c, i] = pot[c, i] / max(recipients[c, i], 1)
    public, coached, coaching_logs, met = _grant(
        firms, effects, asked, receives, share, terms.cofinance, gap, need, member
    )
    needs_met = np.empty(n_clusters if len(member_needs) == n_clusters else 0)
    for c in range(len(needs_met)):
        total_need = _row_sum(member_needs, c)
        needs_met[c] = met[c] / floor_at(total_need, 1e-12) if total_need > 0 else 0.0
    received_any = np.zeros(n_instruments, dtype=np.bool_)
    for c in range(n_clusters):
        for i in range(n_instruments):
            received_any[i] |= recipients[c, i] > 0
    spent = leaked.copy()
    for c in range(n_clusters):
        for i in range(n_instruments):
            if received_any[i]:
                spent[c] += public[c, i]
    return Delivered(spent, coached, coaching_logs, needs_met, offered, taken)


@kernel
def record_spending(
    spent: np.ndarray,
    allocation: np.ndarray,
    region: np.ndarray,
    capacity: np.ndarray,
    leakage: float,
    support_step: np.ndarray,
    support_total: np.ndarray,
    support_since_plan: np.ndarray,
) -> tuple[float, float]:
    """Record a quarter's spending per cluster (``support_step``, added to ``support_total``
    and ``support_since_plan``, in place) and return (total leaked, total spent), summed as
    numpy sums (``pairwise_sum``)."""
    leaked = np.empty(len(spent))
    for c in range(len(spent)):
        leaked[c] = leaked_in_delivery(allocation, region, capacity, leakage, c)
        support_step[c] = spent[c]
        support_total[c] += spent[c]
        support_since_plan[c] += spent[c]
    return pairwise_sum(leaked), pairwise_sum(spent)


@kernel
def fill_requests(pot: float, weight: np.ndarray, request: np.ndarray) -> np.ndarray:
    """``government.fill_requests``' water-filling in one call: each round offers the pot left
    to the applicants still waiting by weight x request; those offered at least their request
    get it and drop out, their requests leave the pot; when nobody is capped, the offers
    stand. The sums over waiting applicants are numpy's (``pairwise_sum`` of the selection in
    applicant order), so the allocation is the numpy loop's to the bit."""
    n = len(request)
    allocation = np.zeros(n)
    demand = np.empty(n)
    waiting = np.empty(n, dtype=np.bool_)
    for i in range(n):
        demand[i] = weight[i] * request[i]
        waiting[i] = demand[i] > 0
    offer = np.empty(n)
    picked = np.empty(n)  # the values a round sums, in applicant order
    left = pot
    while left > 0:
        m = 0
        for i in range(n):
            if waiting[i]:
                picked[m] = demand[i]
                m += 1
        if m == 0:
            break
        total = pairwise_sum(picked[:m])
        capped = 0
        for i in range(n):
            offer[i] = left * demand[i] / total if waiting[i] else 0.0
            if waiting[i] and offer[i] >= request[i]:
                picked[capped] = request[i]
                capped += 1
        if capped == 0:
            for i in range(n):
                allocation[i] += offer[i]
            break
        for i in range(n):
            if waiting[i] and offer[i] >= request[i]:
                allocation[i] = request[i]
                waiting[i] = False
        left -= pairwise_sum(picked[:capped])
    return allocation
