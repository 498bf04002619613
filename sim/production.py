"""Production and sale, whole-array: input prices, unit costs, visibility, segment choice,
capacity, market clearing and input purchases. Every rule applies to all firms at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.firms import DOWNSTREAM, PRODUCER, UPSTREAM
from sim.market import EXPORT, N_SEGMENTS

if TYPE_CHECKING:
    from sim.model import ClusterModel


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
