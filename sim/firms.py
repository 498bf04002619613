"""Firm behaviour, whole-array: ties, learning, accounting, investment, workforce, exit and
entry (production and sale: ``sim.production``). Every rule applies to all firms at once;
nothing loops over agents.

Firm arrays hold live firms only (``FirmState`` keeps them dense), except inside exit and entry,
between an exit and ``compact``: only ``entrants_per_cluster`` and ``initialise_entrants`` run
there, and they leave the empty slots (cluster -1) out of their cluster counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market import N_SEGMENTS
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
