"""Central planning, allocation, regional delivery, monitoring and reallocation.

Regimes differ here only in who decides (planner or firms), with what information (known
potential or noisy market signals, planning quality), for whom (designated clusters or any
organised applicant) and whether results are watched (monitoring). No regime has an
effectiveness parameter; what support achieves is decided in ``sim.support`` by firms' state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.coordination import install_appointed
from sim.scenario import INSTRUMENTS
from sim.support import (
    CREDIT,
    EQUIPMENT,
    apply_support,
    dose_cost,
    firm_needs,
    perceived_needs,
    productivity_gap,
)

if TYPE_CHECKING:
    from sim.model import ClusterModel


def _z(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)


def cluster_sums(
    model: ClusterModel, values: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Sum a per-slot quantity (1-D or [slot, k]) over each cluster's firms (``mask``: some)."""
    f = model.firms
    index = f.cluster if mask is None else f.cluster[mask]
    kept = values if mask is None else values[mask]
    n = model.clusters.count
    if values.ndim == 1:
        return np.bincount(index, weights=kept, minlength=n)
    # a bincount per column (measured faster than one over (cluster, column) keys; each bin
    # sums its firms in slot order either way, so the sums are identical)
    sums = np.empty((n, values.shape[1]))
    for j in range(values.shape[1]):
        sums[:, j] = np.bincount(index, weights=kept[:, j], minlength=n)
    return sums


def true_opportunity(model: ClusterModel) -> np.ndarray:
    """Demand growth in the segments each cluster's firms can reach (quality permitting)."""
    f, c, m = model.firms, model.clusters, model.market
    reach = np.stack(
        [cluster_sums(model, (f.quality >= m.threshold[s] - 0.05).astype(float)) for s in range(3)],
        axis=1,
    )
    reach /= np.maximum(reach.sum(axis=1, keepdims=True), 1e-12)
    return (reach * m.growth[c.product]).sum(axis=1)


def selection_score(model: ClusterModel) -> np.ndarray:
    """The planner's ranking: known potential and/or an estimate of market opportunity.

    Planning quality is the correlation between the planner's estimate and the truth.
    """
    c, pol, rng = model.clusters, model.config.policy, model.policy_rng
    size = np.bincount(model.firms.cluster, minlength=c.count)
    known_potential = _z(_z(np.log1p(size)) + _z(c.tradition))
    q = pol.planning_quality
    estimate = q * _z(true_opportunity(model)) + np.sqrt(1 - q**2) * rng.standard_normal(c.count)
    return (1 - pol.market_attention) * known_potential + pol.market_attention * estimate


def va_per_worker(model: ClusterModel) -> np.ndarray:
    f = model.firms
    return cluster_sums(model, f.value_added) / np.maximum(cluster_sums(model, f.workers), 1e-9)


def monitor(model: ClusterModel) -> None:
    """Observe supported clusters' results where regional capacity allows; shift weights."""
    c, pol, rng = model.clusters, model.config.policy, model.policy_rng
    if pol.monitoring <= 0 or np.isnan(c.va_per_worker_at_plan).all():
        return
    supported = c.support_since_plan > 0
    chance = pol.monitoring * model.regions.capacity[c.region]
    observed = supported & (rng.random(c.count) < chance) & ~np.isnan(c.va_per_worker_at_plan)
    if observed.sum() < 2:
        return
    performance = va_per_worker(model) / np.maximum(c.va_per_worker_at_plan, 1e-9) - 1
    score = np.clip(_z(performance[observed]), -2, 2)
    c.weight[observed] *= np.exp(pol.reallocation_rate * score)
    c.weight = np.clip(c.weight / c.weight[supported].mean(), 0.05, 20)


def plan(model: ClusterModel) -> None:
    """A planning round: monitor, then (re)select clusters and install appointed coordinators."""
    c, pol = model.clusters, model.config.policy
    monitor(model)
    first = not c.ever_selected.any()
    if pol.selected_clusters > 0 and (first or pol.reselect_each_cycle):
        score = selection_score(model) + np.log(c.weight)
        score = np.where(c.forced_designation, np.inf, score)
        chosen = np.argsort(-score, kind="stable")[: min(pol.selected_clusters, c.count)]
        c.selected[:] = False
        c.selected[chosen] = True
        c.ever_selected |= c.selected
        if pol.appointed_coordinators:
            install_appointed(model, chosen)
    c.va_per_worker_at_plan = va_per_worker(model)
    c.support_since_plan[:] = 0


def cluster_mix(model: ClusterModel, needs: np.ndarray) -> np.ndarray:
    """Instrument shares per cluster: the planner's package, blended with members' requests.

    The planner's package moves from the uniform mix toward the cluster's true needs as planning
    quality rises; members' requests reach government through a coordinator, as well as its
    legitimacy allows.
    """
    c, pol = model.clusters, model.config.policy
    base = np.asarray(pol.instrument_mix.as_list())

    def shares(total: np.ndarray) -> np.ndarray:
        row = total.sum(axis=1, keepdims=True)
        return np.where(row > 0, total / np.maximum(row, 1e-12), base)

    planner = (1 - pol.planning_quality) * base + pol.planning_quality * shares(
        cluster_sums(model, needs)
    )
    members = shares(cluster_sums(model, needs, model.firms.member))
    relay = c.legitimacy[:, None] * members + (1 - c.legitimacy[:, None]) * base
    relayed = np.where((c.coordinator > 0)[:, None], relay, planner)
    mix = pol.needs_from_firms * relayed + (1 - pol.needs_from_firms) * planner
    return mix / mix.sum(axis=1, keepdims=True)


def allocate(model: ClusterModel, applicant: np.ndarray) -> np.ndarray:
    """Budget per cluster: a designated/selected pot by weight, an open pot by application."""
    c, pol = model.clusters, model.config.policy
    budget = pol.budget_per_quarter
    allocation = np.zeros(c.count)
    selected_weight = np.where(c.selected, c.weight, 0.0)
    if selected_weight.sum() > 0:
        allocation += budget * (1 - pol.open_share) * selected_weight / selected_weight.sum()
    if pol.open_share > 0:
        # Any organised cluster may apply; its association forwards its applying members.
        applying_members = cluster_sums(model, applicant.astype(float), model.firms.member)
        request = np.where(c.coordinator > 0, applying_members, 0.0) * (
            model.config.instruments.coaching_dose_cost
            * (1 - pol.cofinancing_share * pol.voluntary)
        )
        demand = c.weight * request
        if demand.sum() > 0:
            allocation += np.minimum(budget * pol.open_share * demand / demand.sum(), request)
    return allocation


def deliver(
    model: ClusterModel,
    allocation: np.ndarray,
    mix: np.ndarray,
    applicant: np.ndarray,
    asked: np.ndarray,
    perceived: np.ndarray,
    gap: np.ndarray | None = None,
) -> np.ndarray:
    """Regional governments deliver: leakage where capacity is low; firms take up what fits.

    ``perceived`` holds the perceived needs of the firms in ``asked`` (sorted slots, a superset
    of every firm in a cluster that receives anything). Returns budget spent per cluster
    (delivered support plus what leaked on the way).
    """
    f, c, pol, k = model.firms, model.clusters, model.config.policy, model.config.instruments
    capacity = model.regions.capacity[c.region]
    leaked = allocation * pol.delivery_leakage * (1 - capacity)
    delivered = allocation - leaked
    spent = leaked.copy()
    cofinance = pol.cofinancing_share if pol.voluntary else 0.0
    in_supported = delivered[f.cluster] > 0
    # the same firms for every instrument: found once
    if pol.voluntary:
        applying = np.flatnonzero(in_supported & applicant)
    else:
        enrolled = np.flatnonzero(in_supported)
        row = np.searchsorted(asked, enrolled)  # their rows in ``perceived``
    offered = taken = 0
    helped = np.zeros(len(f.cluster), dtype=bool)  # got something it judged useful
    for instrument in range(len(INSTRUMENTS)):
        pot = delivered * mix[:, instrument]
        if pol.voluntary:
            recipients = applying
            useful = recipients
        elif instrument in (EQUIPMENT, CREDIT):
            recipients = enrolled
            useful = recipients[perceived[row, instrument] > k.takeup_cost]
        else:
            # Enrolled firms still choose whether to show up: only if it looks useful to them.
            recipients = enrolled[perceived[row, instrument] > k.takeup_cost]
            useful = recipients
            offered += len(enrolled)
            taken += len(recipients)
        if not len(recipients):
            continue
        helped[useful[pot[f.cluster[useful]] > 0]] = True
        cluster_of = f.cluster[recipients]
        share = pot / np.maximum(np.bincount(cluster_of, minlength=c.count), 1)
        public = np.minimum(
            share[cluster_of], dose_cost(model, instrument, f.workers[recipients]) * (1 - cofinance)
        )
        total = public / (1 - cofinance)
        f.cash[recipients] -= total - public
        apply_support(model, recipients, instrument, total, gap)
        spent += np.bincount(cluster_of, weights=public, minlength=c.count)
    if pol.voluntary:
        offered = int(np.count_nonzero(in_supported))
        taken = len(applying)
    model.takeup_offered += offered
    model.takeup_taken += taken
    size = np.bincount(f.cluster, minlength=c.count)
    c.helped_share = np.bincount(f.cluster[helped], minlength=c.count) / np.maximum(size, 1)
    return spent


def govern(model: ClusterModel) -> None:
    """One quarter of government: plan when due, allocate, deliver, record support."""
    c, f, pol = model.clusters, model.firms, model.config.policy
    c.support_step[:] = 0
    f.support[:] = 0
    if not model.config.policy_active:
        return
    if model.policy_quarter % pol.planning_cycle == 0:
        plan(model)
    gap = productivity_gap(model)  # productivity does not move before coaching is delivered
    needs = firm_needs(model, gap)
    # Support can only reach selected clusters and (through the open pot) organised ones, so
    # only their firms weigh up whether to apply or show up.
    reachable = c.selected | ((c.coordinator > 0) & (pol.open_share > 0))
    asked = np.flatnonzero(reachable[f.cluster])
    perceived = perceived_needs(model, needs, asked)
    mix = cluster_mix(model, needs)
    weighted = perceived * mix[f.cluster[asked]]
    # row sums left to right, as .sum(axis=1) adds four columns, without its slow short-axis loop
    usefulness = ((weighted[:, 0] + weighted[:, 1]) + weighted[:, 2]) + weighted[:, 3]
    participation_cost = model.config.instruments.takeup_cost + (
        pol.cofinancing_share if pol.voluntary else 0
    )
    applicant = np.zeros(f.size, dtype=bool)
    applicant[asked] = usefulness > participation_cost
    allocation = allocate(model, applicant)
    spent = deliver(model, allocation, mix, applicant, asked, perceived, gap)
    c.support_step[:] = spent
    c.support_total += spent
    c.support_since_plan += spent
    c.last_mix = mix
    model.budget_spent += spent.sum()
