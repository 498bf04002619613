"""Firm behaviour, whole-array: ties, learning, accounting, investment, workforce, exit and
entry (production and sale: ``sim.model.production``). Every rule applies to all firms at once;
nothing loops over agents: the per-firm passes are compiled loops (``sim.model.kernels.firms``).

Firm arrays hold live firms only (``FirmState`` keeps them dense), except inside exit and entry,
between an exit and ``compact``: only ``entrants_per_cluster`` and ``initialise_entrants`` run
there, and they leave the empty slots (cluster -1) out of their cluster counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.kernels import firms as fk
from sim.model.kernels.compiled import columns_of
from sim.model.kernels.draws import stream_of
from sim.model.ties import PartnerIndex

if TYPE_CHECKING:
    from sim.model import ClusterModel
    from sim.model.firm_state import FirmState


def update_ties(model: ClusterModel, partners: PartnerIndex) -> None:
    """Vertical and horizontal ties form (faster where a coordinator brokers) and lapse.

    The rules and their draws from ``model.rng`` (its uniforms, taken inside the kernel):
    ``kernels.firms.form_and_lapse_ties``."""
    f, p, c = model.firms, model.config.firms, model.clusters
    rates = fk.TieRates(
        brokerage=float(model.config.coordination.brokerage),
        tie_decay=float(p.tie_decay),
        vertical_tie_rate=float(p.vertical_tie_rate),
        buyer_tie_rate=float(p.buyer_tie_rate),
        horizontal_tie_rate=float(p.horizontal_tie_rate),
        max_horizontal_ties=int(p.max_horizontal_ties),
    )
    a, b = model.ties.pairs()
    a, b, degree = fk.form_and_lapse_ties(
        stream_of(model.rng),
        columns_of(f, fk.TieFirms),
        fk.TieClusters(c.legitimacy, c.coordinator, c.joint_action),
        partners.groups,
        a,
        b,
        rates,
    )
    model.ties.replace(a, b, degree)


def learn(model: ClusterModel) -> None:
    """Spillover through cooperation ties: a share of each partner's lead, scaled by absorption."""
    f, rate = model.firms, model.config.firms.spillover_rate
    if not len(model.ties) or rate == 0:
        return
    # Only firms with ties move (elsewhere the gain is exactly 0), so work on those firms alone
    tied = model.ties.tied_positions(f.size)
    a, b = model.ties.pairs()
    log_productivity = np.log(fk.floored_at(f.productivity, tied.nodes, 1e-9))
    learners = columns_of(f, fk.Learners)
    step = fk.spill_over(a, b, tied, log_productivity, learners, rate)
    fk.scale_at(f.productivity, tied.nodes, np.exp(step, out=step))


def account(model: ClusterModel) -> None:
    """Value added, commissions to traders, machines' upkeep, wages and overheads, profit and
    cash; bought visibility fades and machines depreciate."""
    p, k = model.config.firms, model.config.instruments
    terms = fk.Terms(
        commission_rate=p.trader_commission,
        cost_per_worker=p.wage + p.overhead_per_worker,
        visibility_kept=1 - k.visibility_decay,
        equipment_running_cost=float(k.equipment_running_cost),
        equipment_kept=1 - float(k.equipment_depreciation),
    )
    fk.settle(columns_of(model.firms, fk.Accounts), terms)


def invest_and_adjust(model: ClusterModel) -> None:
    """Invest surplus cash in productivity or (to reach a better segment) quality; hire or fire."""
    f, p, rng = model.firms, investment_terms(model), model.rng
    exponent, n_grow, n_shrink = fk.invest(columns_of(f, fk.Investors), model.market.threshold, p)
    growth = np.exp(exponent, out=exponent)
    # workforce: grow when sold out and profitable, shrink when idle and losing (hires and
    # lay-offs rounded stochastically, a draw per firm that grows or shrinks)
    u_grow = rng.random(n_grow)
    u_shrink = rng.random(n_shrink)
    fk.grow_and_staff(columns_of(f, fk.Staffing), growth, u_grow, u_shrink, p)


def investment_terms(model: ClusterModel) -> fk.Growth:
    """The investment and workforce parameters, as the firm kernels read them."""
    p = model.config.firms
    return fk.Growth(
        cash_buffer=p.cash_buffer,
        invest_share=p.invest_share,
        invest_efficiency=p.invest_efficiency,
        kept=1 - p.depreciation,
        hiring_rate=p.hiring_rate,
        management_span=p.management_span,
        firing_rate=p.firing_rate,
    )


def exits(model: ClusterModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Firms whose cash stayed negative for ``exit_patience`` quarters leave: ties to them are
    cut and their slots emptied (``kernels.firms.leave``, one call for all of it and for the
    clusters' expected spin-offs). Returns their slots, their ids and the expected entrants
    per cluster (``entrants_per_cluster`` draws from them)."""
    f, p = model.firms, model.config.firms
    a, b = model.ties.pairs()
    leaving, retired, a, b, expected = fk.leave(
        columns_of(f, fk.Leavers),
        a,
        b,
        int(p.exit_patience),
        model.clusters.count,
        float(p.entry_rate),
    )
    if len(leaving):
        model.ties.take(a, b)
        f.released(len(leaving))
    return leaving, retired, expected


def entrants_per_cluster(model: ClusterModel, expected: np.ndarray) -> np.ndarray:
    """Spin-offs where the cluster is profitable: Poisson with mean ~ size x margin (``expected``
    from ``exits``: ``kernels.firms.expected_entrants``)."""
    return model.rng.poisson(expected)


def initialise_entrants(model: ClusterModel, slots: np.ndarray, cluster_of: np.ndarray) -> None:
    """Spin-offs copy their cluster's practice imperfectly: near its mean, a little behind.

    Works out every firm's log productivity first (``FirmState.log_productivity``, numpy's
    log), also when no firm enters: the quarter's outcomes read it, since productivity does
    not change between entry and them."""
    f, p, rng = model.firms, model.config.firms, model.rng
    n = len(slots)
    # incumbents' (empty and new slots are left out by cluster)
    log_productivity = take_log_productivity(f)
    if n == 0:
        return
    # the draws, in the order the traits always took them: stage (the uniform each that
    # ``rng.choice(3, p=stage_shares)`` draws), hires, then four rows of normals (one call of
    # 4 x n draws the same numbers as four calls of n)
    stage_draw = rng.random(n)
    hires = rng.poisson(1.0, n)
    noise = rng.standard_normal((4, n))
    traits = fk.EntrantTraits(
        float(p.market_knowledge_mean), float(p.absorptive_mean), float(p.cash_buffer)
    )
    exponent = fk.settle_entrants(
        columns_of(f, fk.Entrants),
        slots,
        cluster_of,
        stage_draw,
        np.asarray(model.config.world.stage_shares, dtype=float),
        hires,
        noise,
        log_productivity,
        model.clusters.count,
        traits,
    )
    productivity = np.exp(exponent, out=exponent)
    f.productivity[slots] = productivity
    # numpy's log is elementwise, so the entrants' own give what a log of every slot would
    np.maximum(productivity, 1e-9, out=productivity)
    log_productivity[slots] = np.log(productivity, out=productivity)


def take_log_productivity(firms: FirmState) -> np.ndarray:
    """Every slot's ``log(max(productivity, 1e-9))``, numpy's, into its column; returns it."""
    log_productivity = firms.log_productivity
    np.maximum(firms.productivity, 1e-9, out=log_productivity)
    return np.log(log_productivity, out=log_productivity)
