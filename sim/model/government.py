"""Central planning, allocation, regional delivery, monitoring and reallocation.

Regimes differ here only in who decides (planner or firms), with what information (known
potential or noisy market signals, planning quality), for whom (designated clusters or any
organised applicant) and whether results are watched (monitoring). No regime has an
effectiveness parameter; what support achieves is decided in ``sim.model.support`` by firms' state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.model.coordination import install_appointed, withdraw_appointed
from sim.model.kernels import support as kernels
from sim.model.kernels.compiled import columns_of
from sim.model.support import (
    MAX_GRANT_PER_WORKER,
    Assessment,
    assess_needs,
    effects,
    productivity_gap,
    recipients,
    sizes_and_frontiers,
)
from sim.scenario.codes import APPOINTED, INSTRUMENTS

if TYPE_CHECKING:
    from sim.model import ClusterModel


def cluster_sums(
    model: ClusterModel, values: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Sum a per-slot quantity (1-D or [slot, k]) over each cluster's firms (``mask``: some)."""
    f = model.firms
    columns = values if values.ndim == 2 else values[:, None]
    counted = np.ones(len(f.cluster), dtype=bool) if mask is None else mask
    sums = kernels.sums_by_cluster(f.cluster, columns, counted, model.clusters.count)
    return sums if values.ndim == 2 else sums[:, 0]


class PlanTotals(NamedTuple):
    """Per-cluster totals a planning round reads of the firms (``cluster_totals``)."""

    size: np.ndarray  # firms
    reach: np.ndarray  # [cluster, segment] firms whose quality reaches the segment
    value_added: np.ndarray
    workers: np.ndarray


def cluster_totals(model: ClusterModel) -> PlanTotals:
    """Firms, segment reach, value added and workers per cluster, in one pass over the firms
    (a planning round reads them up to three times; nothing in it changes the firms)."""
    f, m = model.firms, model.market
    cuts = np.asarray(m.threshold[:3]) - 0.05
    return PlanTotals(
        *kernels.plan_totals(
            f.cluster, f.quality, cuts, f.value_added, f.workers, model.clusters.count
        )
    )


def true_opportunity(model: ClusterModel, totals: PlanTotals | None = None) -> np.ndarray:
    """Each cluster's market opportunity now: the demand growth of the segments its firms can
    reach (quality permitting) plus the growth of its own buyer network; shocked markets
    count by how much of their lost demand returns this quarter (``kernels.opportunity``)."""
    c, m = model.clusters, model.market
    reach = (cluster_totals(model) if totals is None else totals).reach
    return kernels.opportunity(reach, m.growth + m.returning_demand(), c.product, c.niche_growth)


def known_potential(model: ClusterModel, size: np.ndarray) -> np.ndarray:
    """What a planner sees without market information: a cluster's size (``size``: firms per
    cluster) and its tradition, each standardised across clusters (``kernels.potential``)."""
    return kernels.potential(np.log1p(size), model.clusters.tradition)


def selection_score(model: ClusterModel, totals: PlanTotals | None = None) -> np.ndarray:
    """The planner's ranking: known potential and/or an estimate of market opportunity.

    Planning quality is the correlation between the planner's estimate of market opportunity
    and the truth (``true_opportunity``); the rest is noise (``kernels.selection_scores``).
    """
    c, pol, rng = model.clusters, model.config.policy, model.policy_rng
    totals = cluster_totals(model) if totals is None else totals
    log_size = np.log1p(totals.size)
    q = pol.planning_quality
    opportunity = true_opportunity(model, totals)
    noise_scale = float(np.sqrt(1 - q**2))
    noise = rng.standard_normal(c.count)
    return kernels.selection_scores(
        log_size,
        c.tradition,
        opportunity,
        noise,
        float(q),
        noise_scale,
        float(pol.market_attention),
    )


def rank(model: ClusterModel, score: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` clusters a plan picks: those forced into designation first, then by ``score``
    (ties keep cluster order)."""
    c = model.clusters
    score = np.where(c.forced_designation, np.inf, score)
    return np.argsort(-score, kind="stable")[: min(k, c.count)]


def va_per_worker(model: ClusterModel, totals: PlanTotals | None = None) -> np.ndarray:
    """Value added per worker in each cluster."""
    totals = cluster_totals(model) if totals is None else totals
    return totals.value_added / np.maximum(totals.workers, 1e-9)


def monitor(model: ClusterModel, totals: PlanTotals | None = None) -> None:
    """Observe supported clusters' results where regional capacity allows; shift weights
    (``kernels.monitoring_scores``, ``kernels.reweigh``; numpy's exp between them)."""
    c, pol, rng = model.clusters, model.config.policy, model.policy_rng
    if pol.monitoring <= 0 or np.isnan(c.va_per_worker_at_plan).all():
        return
    draws = rng.random(c.count)
    totals = cluster_totals(model) if totals is None else totals
    observed, logs = kernels.monitoring_scores(
        c.support_since_plan,
        c.va_per_worker_at_plan,
        totals.value_added,
        totals.workers,
        model.regions.capacity,
        c.region,
        float(pol.monitoring),
        float(pol.reallocation_rate),
        draws,
    )
    if len(observed) < 2:
        return
    c.weight = kernels.reweigh(c.weight, observed, np.exp(logs), c.support_since_plan)


def plan(model: ClusterModel) -> None:
    """A planning round: monitor, then (re)select clusters and install appointed coordinators."""
    c, pol = model.clusters, model.config.policy
    totals = cluster_totals(model)
    monitor(model, totals)
    first = not c.ever_selected.any()
    if pol.selected_clusters > 0 and (first or pol.reselect_each_cycle):
        score = selection_score(model, totals) + np.log(c.weight)
        chosen = rank(model, score, pol.selected_clusters)
        c.selected[:] = False
        c.selected[chosen] = True
        c.ever_selected |= c.selected
        if pol.appointed_coordinators:
            withdraw_appointed(model, c.selected)
            install_appointed(model, chosen)
    c.va_per_worker_at_plan = va_per_worker(model, totals)
    c.support_since_plan[:] = 0


def blend_mix(model: ClusterModel, needs: np.ndarray, member_needs: np.ndarray) -> np.ndarray:
    """Instrument shares per cluster, from needs [cluster, instrument] summed over all firms and
    over members: the planner's package moves from the uniform mix toward the cluster's true
    needs as planning quality rises; members' requests reach government through a coordinator,
    as well as its legitimacy allows."""
    c, pol = model.clusters, model.config.policy
    base = np.asarray(pol.instrument_mix.as_list(), dtype=float)
    return kernels.blend_mix(
        needs,
        member_needs,
        base,
        float(pol.planning_quality),
        float(pol.needs_from_firms),
        c.legitimacy,
        c.coordinator,
    )


class BudgetLines(NamedTuple):
    """Where a quarter's budget went (wage units): ``available`` = ``delivered`` + ``leaked`` +
    ``coordinators`` + ``unspent``; ``carried`` is the part of ``unspent`` kept for the next
    quarter (all of it under ``policy.unspent: carry``, none under ``lapse``)."""

    available: float  # budget_per_quarter + what the last quarter carried
    delivered: float  # public money firms received
    leaked: float  # lost in delivery where regional capacity is low
    coordinators: float  # appointed coordinators' running cost
    unspent: float  # allocated to no cluster, or allocated and not taken up
    carried: float  # to the next quarter


NO_BUDGET = BudgetLines(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def fill_requests(pot: float, weight: np.ndarray, request: np.ndarray) -> np.ndarray:
    """Share ``pot`` among applicants by ``weight x request``, each capped at its ``request``
    (water-filling): what a capped applicant cannot use passes to the uncapped ones, until the
    pot is used or every applicant has its request. What is left stays unallocated
    (``kernels.fill_requests``)."""
    return kernels.fill_requests(float(pot), weight, request)


def coordinators_cost(model: ClusterModel, available: float) -> float:
    """Appointed coordinators' running cost this quarter, paid before any allocation; when the
    budget cannot cover it, the coordinators get what there is (no debt is carried)."""
    c, pol = model.clusters, model.config.policy
    due = float(np.count_nonzero(c.coordinator == APPOINTED)) * pol.appointed_coordinator_cost
    return min(due, available)


def allocate(
    model: ClusterModel,
    applicant: np.ndarray,
    applying_members: np.ndarray | None = None,
    budget: float | None = None,
    mix: np.ndarray | None = None,
    size: np.ndarray | None = None,
) -> np.ndarray:
    """Budget per cluster: a designated/selected pot by weight, an open pot by application
    (``fill_requests``: shared by weight x request, capped at the request, the excess passed
    on to uncapped applicants; ``kernels.allocation``).

    ``applying_members``: applicants among each cluster's members, if the caller counted them.
    ``budget``: the money to allocate (default ``policy.budget_per_quarter``). ``mix``: the
    instrument shares per cluster; an applicant requests a full package of it (without it, a
    coaching dose), net of co-financing. ``size``: firms per cluster, if the caller has it.
    """
    c, pol = model.clusters, model.config.policy
    terms = allocating(model, pol.budget_per_quarter if budget is None else budget)
    package = np.zeros(c.count)
    if pol.open_share > 0:
        # Any organised cluster may apply; its association forwards its applying members.
        if applying_members is None:
            applying_members = cluster_sums(model, applicant.astype(float), model.firms.member)
        package[:] = package_cost(model, mix, size)
    members = np.zeros(c.count) if applying_members is None else applying_members
    return kernels.allocation(c.selected, c.weight, c.coordinator, members, package, terms)


def package_cost(
    model: ClusterModel, mix: np.ndarray | None, size: np.ndarray | None = None
) -> np.ndarray | float:
    """What one firm of each cluster can use of its instrument mix in a quarter: a coaching
    dose, a linkage dose, and equipment and credit up to ``MAX_GRANT_PER_WORKER`` per worker
    (at the cluster's mean firm size), weighted by the mix (``kernels.package_costs``)."""
    k = model.config.instruments
    if mix is None:
        return k.coaching_dose_cost
    f, c = model.firms, model.clusters
    size = kernels.firms_per_cluster(f.cluster, c.count) if size is None else size
    workers = cluster_sums(model, f.workers)
    return kernels.package_costs(mix, workers, size, allocating(model, 0.0))


def allocating(model: ClusterModel, budget: float) -> kernels.Allocating:
    """The policy's terms of a quarter's mix and allocation, as the kernels read them
    (``budget``: the money to allocate)."""
    pol, k = model.config.policy, model.config.instruments
    participation_cost = k.takeup_cost + (pol.cofinancing_share if pol.voluntary else 0)
    return kernels.Allocating(
        planning_quality=float(pol.planning_quality),
        needs_from_firms=float(pol.needs_from_firms),
        participation_cost=float(participation_cost),
        budget=float(budget),
        open_share=float(pol.open_share),
        request_factor=float(1 - pol.cofinancing_share * pol.voluntary),
        coaching_dose_cost=float(k.coaching_dose_cost),
        linkage_dose_cost=float(k.linkage_dose_cost),
        max_grant_per_worker=MAX_GRANT_PER_WORKER,
    )


def apportion(
    model: ClusterModel, assessed: Assessment, size: np.ndarray, budget: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A quarter's instrument mix (``blend_mix``), applicants (perceived needs weighted by the
    mix outweigh the cost of taking part) and allocation of ``budget`` (``allocate``), in one
    call (``kernels.apportion``). Returns (mix, applicant per slot, allocation)."""
    f, c, pol = model.firms, model.clusters, model.config.policy
    base = np.asarray(pol.instrument_mix.as_list(), dtype=float)
    return kernels.apportion(
        columns_of(c, kernels.Apportioning),
        assessed.needs,
        assessed.member_needs,
        assessed.workers,
        size,
        assessed.asked,
        assessed.perceived,
        f.cluster,
        f.member,
        base,
        allocating(model, budget),
    )


def deliver(
    model: ClusterModel,
    allocation: np.ndarray,
    mix: np.ndarray,
    applicant: np.ndarray,
    asked: np.ndarray,
    perceived: np.ndarray,
    gap: np.ndarray | None = None,
    need: np.ndarray | None = None,
    member_needs: np.ndarray | None = None,
) -> np.ndarray:
    """Regional governments deliver: leakage where capacity is low; firms take up what fits.

    ``perceived`` holds the perceived needs of the firms in ``asked`` (sorted slots, a superset
    of every firm in a cluster that receives anything). ``gap``: if the caller has it.
    ``need`` (the asked firms' true needs) and ``member_needs`` (members' total needs per
    [cluster, instrument], both from ``assess_needs``) set ``clusters.needs_met``: members'
    needs met / their total need (without them it is left as it was). Returns budget spent per
    cluster (delivered support plus what leaked on the way).
    """
    f, c, pol, k = model.firms, model.clusters, model.config.policy, model.config.instruments
    gap = productivity_gap(model) if gap is None else gap
    known_need = need is not None and member_needs is not None
    nothing = np.empty((0, len(INSTRUMENTS)))
    terms = kernels.Delivery(
        leakage=float(pol.delivery_leakage),
        voluntary=bool(pol.voluntary),
        takeup_cost=float(k.takeup_cost),
        cofinance=float(pol.cofinancing_share) if pol.voluntary else 0.0,
    )
    done = kernels.deliver(
        recipients(model),
        effects(model),
        terms,
        allocation,
        mix,
        c.region,
        model.regions.capacity,
        asked,
        perceived,
        applicant,
        gap,
        need if known_need else nothing,
        member_needs if known_need else nothing,
        f.member,
    )
    if known_need:
        c.needs_met = done.needs_met
    # only coaching moves productivity (equipment adds to the machine stock, in grant)
    f.productivity[done.coached] *= np.exp(done.coaching_logs)
    # take-up: firm-instrument pairs received over pairs on offer (a positive pot), all four
    # instruments, in both participation modes
    model.takeup_offered += int(done.offered)
    model.takeup_taken += int(done.taken)
    return done.spent


def govern(model: ClusterModel) -> None:
    """One quarter of government: plan when due, allocate, deliver, record support."""
    c, f, pol = model.clusters, model.firms, model.config.policy
    c.support_step[:] = 0
    f.support[:] = 0
    model.budget = NO_BUDGET
    if not model.config.policy_active:
        return
    if model.policy_quarter % pol.planning_cycle == 0:
        plan(model)
    # The budget: this quarter's, plus what the last one carried; coordinators are paid first.
    available = pol.budget_per_quarter + model.budget_carried
    coordinators = coordinators_cost(model, available)
    # Nothing in a quarter of government moves firms between clusters: count them once.
    size, frontier = sizes_and_frontiers(model)
    # Support can only reach selected clusters and (through the open pot) organised ones, so
    # only their firms weigh up whether to apply or show up.
    reachable = c.selected | ((c.coordinator > 0) & (pol.open_share > 0))
    # productivity does not move before coaching is delivered, so one gap serves throughout
    assessed = assess_needs(model, reachable, size, frontier)
    money = available - coordinators
    mix, applicant, allocation = apportion(model, assessed, size, money)
    spent = deliver(
        model,
        allocation,
        mix,
        applicant,
        assessed.asked,
        assessed.perceived,
        assessed.gap,
        assessed.need,
        assessed.member_needs,
    )
    c.last_mix = mix
    # Left over: what no cluster was allocated, and what allocations left unused (a pot for an
    # instrument nobody took up, shares above what recipients could absorb).
    leaked, spent_total = kernels.record_spending(
        spent,
        allocation,
        c.region,
        model.regions.capacity,
        float(pol.delivery_leakage),
        c.support_step,
        c.support_total,
        c.support_since_plan,
    )
    delivered = spent_total - leaked
    unspent = max(money - spent_total, 0.0)
    carried = unspent if pol.unspent == "carry" else 0.0
    model.budget_carried = carried
    model.budget = BudgetLines(available, delivered, leaked, coordinators, unspent, carried)
    model.budget_spent += np.float64(spent_total) + coordinators
