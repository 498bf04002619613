"""Firm behaviour, whole-array: ties, learning, segment choice, production, accounting, investment,
workforce, exit and entry. Every rule applies to all firms at once; nothing loops over agents.

Firm arrays hold live firms only (``FirmState`` keeps them dense), except inside exit and entry,
between an exit and ``compact``: only ``entrants_per_cluster`` and ``initialise_entrants`` run
there, and they leave the empty slots (cluster -1) out of their cluster counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market import EXPORT, N_SEGMENTS
from sim.ties import PartnerIndex

if TYPE_CHECKING:
    from sim.model import ClusterModel

UPSTREAM, PRODUCER, DOWNSTREAM = 0, 1, 2


def update_ties(model: ClusterModel, partners: PartnerIndex) -> None:
    """Vertical and horizontal ties form (faster where a coordinator brokers) and lapse."""
    f, p, rng, c = model.firms, model.config.firms, model.rng, model.clusters
    brokerage = 1.0 + model.config.coordination.brokerage * c.legitimacy * (c.coordinator > 0)
    # lapse
    for column in (f.supplier, f.trader):
        linked = np.flatnonzero(column >= 0)
        column[linked[rng.random(len(linked)) < p.tie_decay]] = -1
    if len(model.ties):
        model.ties.keep(rng.random(len(model.ties)) >= p.tie_decay)
    # vertical formation: unlinked producers look for a local supplier and a local trader
    for column, stage, rate in (
        (f.supplier, UPSTREAM, p.vertical_tie_rate),
        (f.trader, DOWNSTREAM, p.buyer_tie_rate),
    ):
        seekers = np.flatnonzero((f.stage == PRODUCER) & (column < 0))
        chance = rate * brokerage[f.cluster[seekers]]
        seekers = seekers[rng.random(len(seekers)) < chance]
        if len(seekers):
            column[seekers] = partners.draw(f.cluster[seekers], stage, rng)
    # horizontal cooperation among firms of the same stage, helped by joint action
    degree = model.ties.degree(f.size)
    seekers = np.flatnonzero(degree < p.max_horizontal_ties)
    chance = p.horizontal_tie_rate * (
        1.0 + model.config.coordination.brokerage * c.joint_action[f.cluster[seekers]]
    )
    seekers = seekers[rng.random(len(seekers)) < chance]
    if len(seekers):
        partner = partners.draw(f.cluster[seekers], f.stage[seekers], rng)
        ok = partner >= 0
        model.ties.add(seekers[ok], partner[ok])


def learn(model: ClusterModel) -> None:
    """Spillover through cooperation ties: a share of each partner's lead, scaled by absorption."""
    f, rate = model.firms, model.config.firms.spillover_rate
    if not len(model.ties) or rate == 0:
        return
    # Only firms with ties move (elsewhere the gain is exactly 0), so work on those firms alone;
    # each bin of the bincounts still adds its terms in edge order, as over all slots.
    nodes, degree, a, b = model.ties.touched(f.size)

    def gap_mean(values: np.ndarray) -> np.ndarray:
        diff = values[b] - values[a]
        gain = np.bincount(a, weights=np.maximum(diff, 0), minlength=len(nodes))
        gain += np.bincount(b, weights=np.maximum(-diff, 0), minlength=len(nodes))
        return gain / degree

    absorptive = f.absorptive[nodes]
    gain = gap_mean(np.log(np.maximum(f.productivity[nodes], 1e-9)))
    f.productivity[nodes] *= np.exp(rate * absorptive * gain)
    quality = f.quality[nodes]
    f.quality[nodes] = quality + rate * absorptive * gap_mean(quality)


def input_price(model: ClusterModel) -> np.ndarray:
    """Price per input unit: cheaper from a local supplier, cheaper again with joint purchasing."""
    f, p = model.firms, model.config.firms
    local = f.supplier >= 0
    price = np.where(local, p.input_price * (1 - p.local_input_discount), p.input_price)
    saving = model.config.coordination.joint_purchasing_saving
    price *= 1 - saving * model.clusters.joint_action[f.cluster] * f.member
    return np.where(f.stage == UPSTREAM, p.raw_material_cost, price)


def output_per_worker(model: ClusterModel) -> np.ndarray:
    """Units a worker makes per quarter; upstream units are inputs, counted in input units."""
    f = model.firms
    factor = np.where(f.stage == UPSTREAM, model.config.firms.upstream_output_factor, 1.0)
    return f.productivity * factor


def unit_cost(
    model: ClusterModel, price_of_inputs: np.ndarray, per_worker: np.ndarray | None = None
) -> np.ndarray:
    """Full unit cost at capacity: inputs plus labour and overhead per unit (prices mark it up).

    ``per_worker``: ``output_per_worker(model)`` if the caller has it already this quarter.
    """
    f, p = model.firms, model.config.firms
    coefficient = np.where(f.stage == UPSTREAM, 1.0, p.input_coefficient)
    per_worker = output_per_worker(model) if per_worker is None else per_worker
    labour = (p.wage + p.overhead_per_worker) / np.maximum(per_worker, 1e-9)
    return coefficient * price_of_inputs + labour


def visibility(model: ClusterModel) -> np.ndarray:
    """How visible a firm is to buyers: bought linkage, joint marketing, a trader's network."""
    f, c = model.firms, model.clusters
    joint = (
        model.config.coordination.joint_marketing_visibility * c.joint_action[f.cluster] * f.member
    )
    trader = model.config.firms.trader_visibility * (f.trader >= 0)
    return f.visibility + joint + trader


def eligible_segments(model: ClusterModel, sellers: np.ndarray) -> np.ndarray:
    """Boolean [firm, segment]: quality clears the threshold. Export also needs a way to foreign
    buyers: a tie to a trader (whose finishing also bridges part of the quality gap) or enough
    market knowledge to find them alone. Traders are the gatekeepers (brief, fact 7)."""
    f, threshold, p = model.firms, model.market.threshold, model.config.firms
    quality = f.quality[sellers]
    eligible = np.empty((len(sellers), N_SEGMENTS), dtype=bool)
    for s in range(N_SEGMENTS):  # column by column: no [firm, segment] float temporary
        eligible[:, s] = quality >= threshold[s]
    tied = f.trader[sellers] >= 0
    on_its_own = (f.knowledge[sellers] >= p.export_knowledge) & (quality >= threshold[EXPORT])
    through_trader = tied & (quality + p.trader_quality_bridge >= threshold[EXPORT])
    eligible[:, EXPORT] = on_its_own | through_trader
    return eligible


def choose_segments(
    model: ClusterModel,
    sellers: np.ndarray,
    product: np.ndarray,
    cost: np.ndarray,
    price_disutility: np.ndarray,
    seen: np.ndarray,
    eligible: np.ndarray,
) -> None:
    """Firms under review pick the segment with the best margin they sense.

    Expected sales follow the last clearing's value per unit of logit weight; what a firm
    senses of it is noisy, less so the more market knowledge it has. ``product``, ``cost``,
    ``price_disutility``, ``seen`` and ``eligible`` are per seller (``eligible_segments``).
    """
    f, m, rng = model.firms, model.market, model.rng
    reviewing = np.flatnonzero(rng.random(len(sellers)) < model.config.firms.segment_review_rate)
    review = sellers[reviewing]
    if not len(review):
        return
    product = product[reviewing]
    cost, disutility = cost[reviewing], price_disutility[reviewing]
    quality, seen, capacity = f.quality[review], seen[reviewing], f.output_capacity[review]
    expected = np.empty((len(review), N_SEGMENTS))
    for s in range(N_SEGMENTS):
        market_index = product * N_SEGMENTS + s
        weight = m.firm_weight(s, disutility, quality, seen, capacity)
        price = cost * (1 + model.config.firms.markup) * m.premium[s]
        sales = np.minimum(weight * m.value_per_weight.ravel()[market_index], capacity * price)
        expected[:, s] = sales * (1 - 1 / ((1 + model.config.firms.markup) * m.premium[s]))
    noise = model.config.instruments.perception_noise * (1 - f.knowledge[review])[:, None]
    sensed = expected * np.exp(noise * rng.standard_normal(expected.shape))
    sensed[~eligible[reviewing]] = -np.inf
    f.segment[review] = np.argmax(sensed, axis=1)


def produce_and_sell(model: ClusterModel) -> None:
    """Production capacity, input reliability, pricing, market clearing, input purchases."""
    f, p, rng, m = model.firms, model.config.firms, model.rng, model.market
    per_worker = output_per_worker(model)
    nominal = f.workers * per_worker
    # producers' inputs may fail to arrive (a draw per producer): capacity falls short
    producing = np.flatnonzero(f.stage == PRODUCER)
    reliability = np.where(f.supplier[producing] >= 0, p.local_reliability, p.outside_reliability)
    hit = producing[rng.random(len(producing)) >= reliability]
    f.output_capacity[:] = nominal
    f.output_capacity[hit] *= 1 - p.shortfall

    prices_in = input_price(model)
    sellers = np.flatnonzero(f.stage != UPSTREAM)
    cost = unit_cost(model, prices_in, per_worker)[sellers]
    seen = visibility(model)[sellers]
    product = model.clusters.product[f.cluster[sellers]]
    disutility = m.price_disutility(product, cost)
    # quality and traders do not move within production: eligibility holds for both uses
    eligible = eligible_segments(model, sellers)
    choose_segments(model, sellers, product, cost, disutility, seen, eligible)
    # A firm whose quality slipped below its segment's threshold falls back to the best it can.
    segment = f.segment[sellers]
    stuck = ~eligible[np.arange(len(sellers)), segment]
    if stuck.any():
        best = N_SEGMENTS - 1 - np.argmax(eligible[stuck][:, ::-1], axis=1)
        f.segment[sellers[stuck]] = best
        segment = f.segment[sellers]

    market_index = product * N_SEGMENTS + segment
    capacity = f.output_capacity[sellers]
    weight = m.firm_weight(segment, disutility, f.quality[sellers], seen, capacity)
    price = cost * (1 + p.markup) * m.premium[segment]
    sales = m.clear(market_index, weight, capacity * price)
    f.sales[:] = 0.0
    f.units[:] = 0.0
    f.sales[sellers] = sales
    f.units[sellers] = sales / price
    m.record_sales(market_index, sales)

    # inputs: producers buy from their local supplier up to its capacity, the rest outside
    producers = producing  # the same slots, in the same order, as the producers among sellers
    need = f.units[producers] * p.input_coefficient
    supplier = f.supplier[producers]
    linked = np.flatnonzero(supplier >= 0)
    tied_to = supplier[linked]
    asked = np.bincount(tied_to, weights=need[linked], minlength=f.size)
    # each supplier fills the same share of every order (all of them if it has the capacity)
    fill = np.minimum(1.0, f.output_capacity[tied_to] / np.maximum(asked[tied_to], 1e-12))
    local_units = np.zeros(len(producers))
    local_units[linked] = need[linked] * fill
    joint = 1 - model.config.coordination.joint_purchasing_saving * (
        model.clusters.joint_action[f.cluster[producers]] * f.member[producers]
    )
    local_price = p.input_price * (1 - p.local_input_discount)
    f.materials[:] = 0.0
    f.local_inputs[:] = 0.0
    f.materials[producers] = (
        local_units * local_price + (need - local_units) * p.input_price
    ) * joint
    f.local_inputs[producers] = local_units
    traders = np.flatnonzero(f.stage == DOWNSTREAM)
    f.materials[traders] = f.units[traders] * p.input_coefficient * p.input_price
    # upstream: local sales to tied producers, part of the spare capacity sold outside
    upstream = np.flatnonzero(f.stage == UPSTREAM)
    sold_local = np.minimum(asked[upstream], f.output_capacity[upstream])
    spare = f.output_capacity[upstream] - sold_local
    units = sold_local + p.outside_input_sales * spare
    f.units[upstream] = units
    f.sales[upstream] = units * local_price
    f.materials[upstream] = units * p.raw_material_cost
    f.utilisation[:] = f.units / np.maximum(nominal, 1e-12)


def account(model: ClusterModel) -> None:
    """Value added, commissions to traders, wages and overheads, profit and cash."""
    f, p = model.firms, model.config.firms
    commission = np.where(f.trader >= 0, p.trader_commission * f.sales, 0.0)
    earned = np.bincount(np.maximum(f.trader, 0), weights=commission, minlength=f.size)
    f.value_added[:] = f.sales - f.materials - commission + earned
    labour = f.workers * (p.wage + p.overhead_per_worker)
    f.profit[:] = f.value_added - labour
    f.cash += f.profit
    f.age += 1
    f.visibility *= 1 - model.config.instruments.visibility_decay


def invest_and_adjust(model: ClusterModel) -> None:
    """Invest surplus cash in productivity or (to reach a better segment) quality; hire or fire."""
    f, p, rng = model.firms, model.config.firms, model.rng
    surplus = np.maximum(f.cash - p.cash_buffer * f.workers, 0.0)
    spend = p.invest_share * surplus
    f.cash -= spend
    per_worker = spend / np.maximum(f.workers, 1.0)
    gain = p.invest_efficiency * per_worker / (1 + per_worker)
    next_threshold = model.market.threshold[np.minimum(f.segment + 1, N_SEGMENTS - 1)]
    to_quality = np.where((f.stage != UPSTREAM) & (f.quality < next_threshold), 0.5, 0.0)
    f.productivity *= np.exp(gain * (1 - to_quality)) * (1 - p.depreciation)
    f.quality[:] = np.minimum(f.quality + gain * to_quality * (1 - f.quality), 1.0)

    # workforce: grow when sold out and profitable, shrink when idle and losing (hires and
    # lay-offs rounded stochastically, a draw per firm that grows or shrinks)
    grow = np.flatnonzero((f.utilisation > 0.95) & (f.profit > 0))
    shrink = np.flatnonzero((f.utilisation < 0.7) & (f.profit < 0) & (f.workers > 1))
    workers = f.workers[grow]
    rate = p.hiring_rate / (1 + workers / p.management_span)
    hires = np.floor(rate * workers + rng.random(len(grow)))
    layoffs = np.floor(p.firing_rate * f.workers[shrink] + rng.random(len(shrink)))
    f.workers[grow] += hires
    f.workers[shrink] -= layoffs
    np.maximum(f.workers, 1.0, out=f.workers)


def exits(model: ClusterModel) -> np.ndarray:
    """Firms whose cash stayed negative for ``exit_patience`` quarters leave; return their slots."""
    f = model.firms
    f.loss_streak[:] = np.where(f.cash < 0, f.loss_streak + 1, 0)
    return np.flatnonzero(f.loss_streak >= model.config.firms.exit_patience)


def entrants_per_cluster(model: ClusterModel) -> np.ndarray:
    """Spin-offs where the cluster is profitable: Poisson with mean ~ size x margin."""
    f, c = model.firms, model.clusters
    # empty slots (cluster -1) fall into bin 0 of a shifted count, which is dropped
    bins = f.cluster + 1
    n = np.bincount(bins, minlength=c.count + 1)[1:]
    profit = np.bincount(bins, weights=f.profit, minlength=c.count + 1)[1:]
    sales = np.bincount(bins, weights=f.sales, minlength=c.count + 1)[1:]
    margin = np.where(sales > 0, profit / np.maximum(sales, 1e-12), 0.0)
    expected = model.config.firms.entry_rate * n * np.clip(margin / 0.1, 0.0, 1.0)
    return model.rng.poisson(expected)


def initialise_entrants(model: ClusterModel, slots: np.ndarray, cluster_of: np.ndarray) -> None:
    """Spin-offs copy their cluster's practice imperfectly: near its mean, a little behind."""
    f, p, rng, w = model.firms, model.config.firms, model.rng, model.config.world
    n = len(slots)
    # incumbents only: empty slots and the new ones (cluster -1 until set below) fall into bin 0
    # of a shifted count, which is dropped
    bins = f.cluster + 1
    size = model.clusters.count + 1
    counts = np.bincount(bins, minlength=size)[1:]
    log_productivity = np.log(np.maximum(f.productivity, 1e-9))
    mean_log_productivity = np.bincount(bins, weights=log_productivity, minlength=size)[
        1:
    ] / np.maximum(counts, 1)
    mean_quality = np.bincount(bins, weights=f.quality, minlength=size)[1:] / np.maximum(counts, 1)
    f.cluster[slots] = cluster_of
    f.stage[slots] = rng.choice(3, size=n, p=w.stage_shares)
    f.workers[slots] = 1.0 + rng.poisson(1.0, n)
    f.productivity[slots] = np.exp(
        mean_log_productivity[cluster_of] - 0.1 + 0.15 * rng.standard_normal(n)
    )
    f.quality[slots] = np.clip(
        mean_quality[cluster_of] - 0.05 + 0.05 * rng.standard_normal(n), 0.01, 0.95
    )
    f.knowledge[slots] = np.clip(p.market_knowledge_mean + 0.1 * rng.standard_normal(n), 0.01, 0.99)
    f.absorptive[slots] = np.clip(p.absorptive_mean + 0.15 * rng.standard_normal(n), 0.01, 0.99)
    f.cash[slots] = p.cash_buffer * f.workers[slots]
    f.segment[slots] = 0
