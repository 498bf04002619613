"""Compiled loops behind ``sim.model.metrics``: a quarter's per-cluster table (its sums in one
pass over the firms) and its aggregate row, one call each.

Sums per cluster add firms in slot order, as ``np.bincount`` does; stage and segment codes are
arguments, not globals (``sim.model.kernels.compiled`` says why the results stay bit-for-bit).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import floor_at, kernel
from sim.model.kernels.sums import pairwise_std, pairwise_sum
from sim.scenario.codes import APPOINTED, CLUSTER_TYPES, EMERGENT, SEGMENTS


@kernel
def cluster_totals(
    cluster,
    stage,
    segment,
    workers,
    sales,
    value_added,
    units,
    local_inputs,
    productivity,
    n,
    upstream,
    producer,
    export,
    small_workers,
):
    """Per-cluster sums of the firm columns outcomes need, and the per-firm extract the
    aggregate row needs, in one pass over the firms (each column is read once a quarter).

    Each sum adds firms in slot order, as ``np.bincount`` does, so the totals are bit-for-bit
    the bincounts'; a firm outside a sum's selection adds 0.0, as the masked column did. A
    cluster's nine running sums sit side by side (one row of ``sums``), so a firm updates one
    or two cache lines, not nine scattered ones. The extract: ``value_added[(stage ==
    producer) & (workers < small_workers)]`` in slot order (summed pairwise later, as numpy
    summed it). Stage and segment codes are arguments, not globals: numba's disk cache would
    not see them change.
    """
    sums = np.zeros((n, 9))
    small_va = np.empty(len(cluster))
    small = 0
    for i in range(len(cluster)):
        row = sums[cluster[i]]
        final = sales[i] if stage[i] != upstream else 0.0
        row[0] += 1.0
        row[1] += workers[i]
        row[2] += sales[i]
        row[3] += final
        row[4] += final if segment[i] == export else 0.0
        row[5] += value_added[i]
        row[6] += units[i] if stage[i] == producer else 0.0
        row[7] += local_inputs[i]
        row[8] += productivity[i]
        small_va[small] = value_added[i]
        small += (stage[i] == producer) & (workers[i] < small_workers)  # branch-free
    totals = np.empty((9, n))  # one contiguous row per sum
    for k in range(n):
        for j in range(9):
            totals[j, k] = sums[k, j]
    return totals, small_va[:small]


@kernel
def cluster_ratios(totals, ties, input_coefficient):
    """The per-cluster ratios from ``cluster_totals``' table and the ties counted per cluster,
    each as its numpy expression computed it (the same division, floors as ``np.maximum``):
    rows value added per worker, export share, mean productivity, vertical linkage (local
    inputs over producers' units x ``input_coefficient``), horizontal density (ties over
    possible pairs)."""
    n = totals.shape[1]
    ratios = np.empty((5, n))
    for c in range(n):
        firms, employment, final_sales = totals[0, c], totals[1, c], totals[3, c]
        input_units = totals[6, c] * input_coefficient
        pairs = firms * (firms - 1) / 2
        ratios[0, c] = totals[5, c] / floor_at(employment, 1e-9)
        ratios[1, c] = totals[4, c] / floor_at(final_sales, 1e-9)
        ratios[2, c] = totals[8, c] / floor_at(firms, 1.0)
        ratios[3, c] = totals[7, c] / floor_at(input_units, 1e-9)
        ratios[4, c] = ties[c] / floor_at(pairs, 1.0)
    return ratios


class OutcomeFirms(NamedTuple):
    """The firm columns ``cluster_table`` sums per cluster (``cluster_totals``)."""

    cluster: np.ndarray
    stage: np.ndarray
    segment: np.ndarray
    workers: np.ndarray
    sales: np.ndarray
    value_added: np.ndarray
    units: np.ndarray
    local_inputs: np.ndarray
    productivity: np.ndarray


class OutcomeClusters(NamedTuple):
    """The cluster columns the per-cluster table records as they are."""

    members: np.ndarray
    joint_action: np.ndarray
    coordinator: np.ndarray
    selected: np.ndarray
    support_step: np.ndarray
    support_total: np.ndarray
    cluster_type: np.ndarray


# The per-cluster table's rows as ``cluster_table`` writes them (the registry's cluster
# columns, ``sim.model.metrics`` checks).
CLUSTER_ROW: tuple[str, ...] = (
    ("firms", "employment", "sales", "value_added", "va_per_worker", "export_share")
    + ("productivity_mean", "vertical_linkage", "horizontal_density", "members")
    + ("joint_action", "coordinator", "selected", "support", "support_total", "cluster_type")
)


@kernel
def cluster_table(firms, ties_a, clusters, input_coefficient, codes):
    """Every per-cluster outcome of a quarter as one table (rows ``CLUSTER_ROW``, a column per
    cluster), in one call: ``cluster_totals``, ties per cluster (``count_per_cluster``), the
    ratios (``cluster_ratios``) and the cluster columns recorded as floats. Also returns what
    the aggregate row needs: the totals table and ``cluster_totals``' extract. ``codes``:
    upstream and producer stage, export segment, the small-firm workforce."""
    n = len(clusters.members)
    upstream, producer, export, small_workers = codes
    totals, small_va = cluster_totals(
        firms.cluster,
        firms.stage,
        firms.segment,
        firms.workers,
        firms.sales,
        firms.value_added,
        firms.units,
        firms.local_inputs,
        firms.productivity,
        n,
        upstream,
        producer,
        export,
        small_workers,
    )
    ratios = cluster_ratios(totals, count_per_cluster(firms.cluster, ties_a, n), input_coefficient)
    table = np.empty((len(CLUSTER_ROW), n))
    for c in range(n):
        table[0, c] = totals[0, c]  # firms
        table[1, c] = totals[1, c]  # employment
        table[2, c] = totals[2, c]  # sales
        table[3, c] = totals[5, c]  # value added
        for k in range(5):  # va per worker .. horizontal density
            table[4 + k, c] = ratios[k, c]
        table[9, c] = clusters.members[c]
        table[10, c] = clusters.joint_action[c]
        table[11, c] = clusters.coordinator[c]
        table[12, c] = clusters.selected[c]
        table[13, c] = clusters.support_step[c]
        table[14, c] = clusters.support_total[c]
        table[15, c] = clusters.cluster_type[c]
    return table, totals, small_va


@kernel
def classify(va_history, value_added, coordinator, density, joint_action, export_share, linkage):
    """Each cluster's type (0 dormant, 1 active, 2 dynamic, 3 advanced; the highest that
    holds), after ``value_added`` enters the rolling ``va_history`` (the oldest quarter drops
    out): growth over the window, associations, ties, exports, local linkage."""
    quarters, n = va_history.shape
    kind = np.zeros(n, dtype=np.int8)
    for c in range(n):
        for q in range(quarters - 1, 0, -1):
            va_history[q, c] = va_history[q - 1, c]
        va_history[0, c] = value_added[c]
        oldest = va_history[quarters - 1, c]
        growth = value_added[c] / floor_at(oldest, 1e-9) - 1 if oldest > 0 else 0.0
        active = (coordinator[c] > 0) | (density[c] >= 0.05) | (joint_action[c] >= 0.1)
        dynamic = (growth >= 0.04) | (export_share[c] >= 0.15)
        advanced = (export_share[c] >= 0.25) & (linkage[c] >= 0.4) & (joint_action[c] >= 0.2)
        kind[c] = 3 if advanced else 2 if dynamic else 1 if active else 0
    return kind


@kernel
def count_per_cluster(cluster, slots, n):
    """How many of ``slots`` (firm slots, repeats counted) lie in each cluster, as floats."""
    counts = np.zeros(n)
    for slot in slots:
        counts[cluster[slot]] += 1.0
    return counts


@kernel
def gini(values):
    """``sim.model.metrics.gini`` compiled, bit for bit: the sorted values' pairwise sums."""
    ordered = np.sort(values)
    n = len(ordered)
    total = pairwise_sum(ordered)
    if n == 0 or total <= 0:
        return 0.0
    weighted = np.empty(n)
    for i in range(n):
        weighted[i] = (i + 1) * ordered[i]
    return (2 * pairwise_sum(weighted) / (n * total)) - (n + 1) / n


@kernel
def market_totals(inside_sales, outside_sales, demand):
    """The economy's market totals from the [product, segment] tables: cluster firms' sales,
    outside competitors' sales, effective demand, and per segment the demand-weighted share
    (sum over products of share x demand, share floored as ``Market.market_share`` floors
    demand) and the segment's demand, each summed as numpy sums it (pairwise, over the
    C-ordered table, or down one segment's column)."""
    products, segments = demand.shape
    weighted_share = np.empty(segments)
    segment_demand = np.empty(segments)
    column = np.empty(products)
    for s in range(segments):
        for p in range(products):
            share = inside_sales[p, s] / floor_at(demand[p, s], 1e-12)
            column[p] = share * demand[p, s]
        weighted_share[s] = pairwise_sum(column)
        for p in range(products):
            column[p] = demand[p, s]
        segment_demand[s] = pairwise_sum(column)
    return (
        pairwise_sum(inside_sales.ravel()),
        pairwise_sum(outside_sales.ravel()),
        pairwise_sum(demand.ravel()),
        weighted_share,
        segment_demand,
    )


class EconomyTotals(NamedTuple):
    """What the aggregate row is made of, each summed (or counted) as numpy did it."""

    employment: float
    sales: float
    final_sales: float
    export_sales: float
    value_added: float
    input_units: float
    local_inputs: float
    productivity: float  # sum of cluster totals of productivity
    firms: float
    pairs: float  # possible horizontal ties, n (n - 1) / 2 summed over clusters
    joint_action: float  # joint action weighted by firms, summed over clusters
    small_producer_va: float
    log_productivity_spread: float  # std over firms (0 when there are none)
    quality_mean: float  # over firms (0 when there are none)
    founders_alive: int
    members: int
    coordinators_emergent: int
    coordinators_appointed: int
    support: float
    supported_clusters: int
    supported_ever: int
    support_gini: float


@kernel
def economy_totals(
    totals,
    input_coefficient,
    small_producer_va,
    firm_log_productivity,
    firms,
    clusters,
    founder_max_uid,
):
    """Every sum and count the aggregate row needs, each bit for bit as its numpy call (sums
    pairwise, ``mean``/``std`` as numpy's), in one call instead of ~40 numpy calls a quarter.

    ``totals``: ``cluster_totals``'s table (rows: firms, employment, sales, final sales,
    export sales, value added, producer units, local inputs, productivity); ``firms``: the
    firm columns ``alive``, ``uid``, ``member``, ``quality`` (``FirmCounts``); ``clusters``:
    ``joint_action``, ``coordinator``, ``support_step``, ``support_total`` (``ClusterCounts``).
    """
    n = totals.shape[1]
    input_units = np.empty(n)
    pairs = np.empty(n)
    weighted = np.empty(n)
    for c in range(n):
        input_units[c] = totals[6, c] * input_coefficient
        pairs[c] = totals[0, c] * (totals[0, c] - 1) / 2
        weighted[c] = clusters.joint_action[c] * totals[0, c]
    founders_alive = members = 0
    for i in range(len(firms.alive)):
        founders_alive += firms.alive[i] & (firms.uid[i] <= founder_max_uid)
        members += firms.member[i]
    emergent = appointed = supported = supported_ever = 0
    for c in range(len(clusters.coordinator)):
        emergent += clusters.coordinator[c] == EMERGENT
        appointed += clusters.coordinator[c] == APPOINTED
        supported += clusters.support_step[c] > 0
        supported_ever += clusters.support_total[c] > 0
    spread = quality_mean = 0.0
    if len(firms.quality):  # (numpy's mean and std of nothing are NaN; the row says 0)
        spread = pairwise_std(firm_log_productivity)
        quality_mean = pairwise_sum(firms.quality) / len(firms.quality)
    return EconomyTotals(
        employment=pairwise_sum(totals[1]),
        sales=pairwise_sum(totals[2]),
        final_sales=pairwise_sum(totals[3]),
        export_sales=pairwise_sum(totals[4]),
        value_added=pairwise_sum(totals[5]),
        input_units=pairwise_sum(input_units),
        local_inputs=pairwise_sum(totals[7]),
        productivity=pairwise_sum(totals[8]),
        firms=pairwise_sum(totals[0]),
        pairs=pairwise_sum(pairs),
        joint_action=pairwise_sum(weighted),
        small_producer_va=pairwise_sum(small_producer_va),
        log_productivity_spread=spread,
        quality_mean=quality_mean,
        founders_alive=founders_alive,
        members=members,
        coordinators_emergent=emergent,
        coordinators_appointed=appointed,
        support=pairwise_sum(clusters.support_step),
        supported_clusters=supported,
        supported_ever=supported_ever,
        support_gini=gini(clusters.support_total),
    )


class FirmCounts(NamedTuple):
    """Firm columns ``economy_totals`` counts and averages."""

    alive: np.ndarray
    uid: np.ndarray
    member: np.ndarray
    quality: np.ndarray


class ClusterCounts(NamedTuple):
    """Cluster columns ``economy_totals`` counts and sums."""

    joint_action: np.ndarray
    coordinator: np.ndarray
    support_step: np.ndarray
    support_total: np.ndarray


class StepCounts(NamedTuple):
    """What the aggregate row takes from the model rather than from firm or cluster columns,
    as floats: the step, live firms, this quarter's entries and exits, founders, cooperation
    ties, the budget (spent so far and this quarter's lines, ``government.BudgetLines``) and
    the support offers taken up so far."""

    step: float
    firms: float
    entries: float
    exits: float
    founders: float
    ties: float
    budget_spent: float
    budget_available: float
    budget_delivered: float
    budget_leaked: float
    budget_coordinators: float
    budget_unspent: float
    budget_carried: float
    takeup_taken: float
    takeup_offered: float


class MarketTables(NamedTuple):
    """The market's [product, segment] tables the aggregate row sums."""

    inside_sales: np.ndarray
    outside_sales: np.ndarray
    effective_demand: np.ndarray


# The aggregate row as ``aggregate_row`` writes it (``sim.model.metrics`` lays it out in the
# registry's order).
AGGREGATE_ROW: tuple[str, ...] = (
    ("step", "firms", "employment", "sales", "value_added", "va_per_worker")
    + ("market_share", "demand", "outside_sales")
    + tuple(f"market_share_{segment}" for segment in SEGMENTS)
    + ("export_share", "entries", "exits", "survival", "productivity_mean")
    + ("productivity_spread", "quality_mean", "vertical_linkage", "horizontal_density")
    + ("member_share", "joint_action", "coordinators_emergent", "coordinators_appointed")
    + ("support", "budget_spent", "budget_available", "budget_delivered", "budget_leaked")
    + ("budget_coordinators", "budget_unspent", "budget_carried", "supported_clusters")
    + ("support_gini", "share_unsupported", "takeup_rate", "small_producer_va_share")
    + tuple(f"clusters_{name}" for name in CLUSTER_TYPES)
)


@kernel
def aggregate_row(
    totals,
    input_coefficient,
    small_producer_va,
    firm_log_productivity,
    firms,
    clusters,
    cluster_type,
    founder_max_uid,
    market,
    counts,
):
    """The economy-wide outcomes of a quarter in ``AGGREGATE_ROW``'s order, from one call:
    ``economy_totals`` and ``market_totals`` (every sum numpy's), then each outcome as the
    Python expression that made it (ratios with floors as ``max``, ints divided as Python
    divides them: exactly, then rounded once). ``counts``: ``StepCounts``; ``market``:
    ``MarketTables``; ``cluster_type`` is counted per type (``np.bincount``)."""
    t = economy_totals(
        totals,
        input_coefficient,
        small_producer_va,
        firm_log_productivity,
        firms,
        clusters,
        founder_max_uid,
    )
    inside, outside, demand, weighted_share, segment_demand = market_totals(
        market.inside_sales, market.outside_sales, market.effective_demand
    )
    alive = counts.firms > 0
    row = np.empty(len(AGGREGATE_ROW))
    row[0] = counts.step
    row[1] = counts.firms
    row[2] = t.employment
    row[3] = t.sales
    row[4] = t.value_added
    row[5] = t.value_added / floor_at(t.employment, 1e-9)
    row[6] = inside / floor_at(demand, 1e-12)
    row[7] = demand
    row[8] = outside
    k = 9
    for s in range(len(segment_demand)):
        row[k] = weighted_share[s] / floor_at(segment_demand[s], 1e-12)
        k += 1
    row[k] = t.export_sales / floor_at(t.final_sales, 1e-12)
    row[k + 1] = counts.entries
    row[k + 2] = counts.exits
    row[k + 3] = t.founders_alive / floor_at(counts.founders, 1.0)
    row[k + 4] = t.productivity / counts.firms if alive else 0.0
    row[k + 5] = t.log_productivity_spread if alive else 0.0
    row[k + 6] = t.quality_mean if alive else 0.0
    row[k + 7] = t.local_inputs / floor_at(t.input_units, 1e-12)
    row[k + 8] = counts.ties / floor_at(t.pairs, 1.0)
    row[k + 9] = t.members / counts.firms if alive else 0.0
    row[k + 10] = t.joint_action / floor_at(t.firms, 1.0)
    row[k + 11] = t.coordinators_emergent
    row[k + 12] = t.coordinators_appointed
    row[k + 13] = t.support
    row[k + 14] = counts.budget_spent
    row[k + 15] = counts.budget_available
    row[k + 16] = counts.budget_delivered
    row[k + 17] = counts.budget_leaked
    row[k + 18] = counts.budget_coordinators
    row[k + 19] = counts.budget_unspent
    row[k + 20] = counts.budget_carried
    row[k + 21] = t.supported_clusters
    row[k + 22] = t.support_gini
    row[k + 23] = 1 - t.supported_ever / len(clusters.coordinator)
    offered = counts.takeup_offered
    row[k + 24] = counts.takeup_taken / offered if offered != 0 else np.nan
    row[k + 25] = t.small_producer_va / floor_at(t.value_added, 1e-12)
    k += 26
    types = len(row) - k
    for c in range(types):
        row[k + c] = 0.0
    for c in range(len(cluster_type)):
        row[k + cluster_type[c]] += 1.0
    return row
