"""Production and sale: input prices, unit costs, visibility, segment choice, capacity, market
clearing and input purchases. Every rule applies to all firms at once; the rules themselves and
the per-firm passes are compiled loops in ``sim/model/kernels/production.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.kernels import production as kernels
from sim.model.kernels.production import Rates
from sim.scenario.codes import N_SEGMENTS, PRODUCER

if TYPE_CHECKING:
    from sim.model import ClusterModel


def rates(model: ClusterModel) -> Rates:
    """The parameters production reads, as floats for the kernels; the two derived ones (the
    local input price, labour and overhead per worker) are worked out here, once."""
    p, coordination = model.config.firms, model.config.coordination
    return Rates(
        input_price=float(p.input_price),
        local_input_price=float(p.input_price * (1 - p.local_input_discount)),
        raw_material_cost=float(p.raw_material_cost),
        input_coefficient=float(p.input_coefficient),
        labour_cost=float(p.wage + p.overhead_per_worker),
        upstream_output_factor=float(p.upstream_output_factor),
        local_reliability=float(p.local_reliability),
        outside_reliability=float(p.outside_reliability),
        shortfall=float(p.shortfall),
        markup=float(p.markup),
        outside_input_sales=float(p.outside_input_sales),
        trader_visibility=float(p.trader_visibility),
        export_knowledge=float(p.export_knowledge),
        trader_quality_bridge=float(p.trader_quality_bridge),
        joint_purchasing_saving=float(coordination.joint_purchasing_saving),
        joint_marketing_visibility=float(coordination.joint_marketing_visibility),
    )


def input_price(model: ClusterModel) -> np.ndarray:
    """Price per input unit: cheaper from a local supplier, cheaper again with joint purchasing."""
    f = model.firms
    joint_action = model.clusters.joint_action
    return kernels.input_prices(
        f.stage, f.supplier, f.cluster, f.member, joint_action, rates(model)
    )


def output_per_worker(model: ClusterModel) -> np.ndarray:
    """Units a worker makes per quarter; upstream units are inputs, counted in input units."""
    f = model.firms
    return kernels.outputs_per_worker(f.stage, f.productivity, rates(model))


def unit_cost(
    model: ClusterModel, price_of_inputs: np.ndarray, per_worker: np.ndarray | None = None
) -> np.ndarray:
    """Full unit cost at capacity: inputs plus labour and overhead per unit (prices mark it up).

    ``per_worker``: ``output_per_worker(model)`` if the caller has it already this quarter.
    """
    per_worker = output_per_worker(model) if per_worker is None else per_worker
    return kernels.unit_costs(model.firms.stage, price_of_inputs, per_worker, rates(model))


def visibility(model: ClusterModel) -> np.ndarray:
    """How visible a firm is to buyers: bought linkage, joint marketing, a trader's network."""
    f = model.firms
    joint_action = model.clusters.joint_action
    return kernels.visibilities(
        f.visibility, f.cluster, f.member, f.trader, joint_action, rates(model)
    )


def eligible_segments(model: ClusterModel, sellers: np.ndarray) -> np.ndarray:
    """Boolean [firm, segment]: quality clears the threshold. Export also needs a way to foreign
    buyers: a tie to a trader (whose finishing also bridges part of the quality gap) or enough
    market knowledge to find them alone. Traders are the gatekeepers (brief, fact 7)."""
    f = model.firms
    return kernels.eligibility(
        sellers, f.quality, f.knowledge, f.trader, model.market.threshold, rates(model)
    )


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
    draw = rng.random(len(sellers))
    reviewing, review = kernels.reviewers(draw, model.config.firms.segment_review_rate, sellers)
    if not len(review):
        return
    # exp(logit exponent) per segment, and exp(perception error): numpy takes the exponentials
    misperception = rng.standard_normal((len(review), N_SEGMENTS))
    attraction = kernels.review_exponents(
        reviewing, review, f.quality, f.knowledge, price_disutility, seen, m.threshold,
        m.params.quality_sensitivity, model.config.instruments.perception_noise, misperception,
    )  # fmt: skip
    np.exp(attraction, out=attraction)
    np.exp(misperception, out=misperception)
    kernels.pick_segments(
        f.segment, review, reviewing, product, cost, f.output_capacity, attraction,
        misperception, eligible, m.value_per_weight.ravel(), m.premium,
        model.config.firms.markup,
    )  # fmt: skip


def produce_and_sell(model: ClusterModel) -> None:
    """Production capacity, input reliability, pricing, market clearing, input purchases."""
    f, r, rng, m = model.firms, rates(model), model.rng, model.market
    # producers' inputs may fail to arrive (a draw per producer): capacity falls short
    n_producers = np.count_nonzero(f.stage == PRODUCER)
    failure_draw = np.empty(n_producers + 1)  # and a spare, which the kernel reads, unused
    rng.random(out=failure_draw[:n_producers])
    # quality and traders do not move within production: eligibility holds for both uses
    nominal, sellers, cost, seen, product, eligible, disutility, buyers, buyer_supplier = (
        kernels.capacity_and_seller_terms(
            f.stage, f.workers, f.productivity, f.supplier, f.cluster, f.member, f.visibility,
            f.trader, f.quality, f.knowledge, model.clusters.joint_action,
            model.clusters.product, m.reference_cost, m.threshold, failure_draw, r,
            f.output_capacity,
        )
    )  # fmt: skip
    np.log(disutility, out=disutility)  # the relative cost's log: Market.price_disutility
    disutility *= m.params.price_sensitivity
    choose_segments(model, sellers, product, cost, disutility, seen, eligible)
    # A firm whose quality slipped below its segment's threshold falls back to the best it can.
    market_index, capacity, price, capacity_value, exponent = kernels.offers(
        f.segment, sellers, eligible, product, cost, disutility, seen, f.quality,
        f.output_capacity, m.threshold, m.premium, r.markup, m.params.quality_sensitivity,
    )  # fmt: skip
    weight = np.exp(exponent, out=exponent)  # logit weights, as Market.firm_weight
    weight *= capacity
    sales = m.clear(market_index, weight, capacity_value)
    # inputs: producers buy from their local supplier up to its capacity, the rest outside;
    # upstream firms sell locally to tied producers and part of their spare capacity outside;
    # sales per market summed on the way (Market.record_sales)
    market_sales = np.zeros(m.demand.size)
    kernels.book_sales_and_inputs(
        f.stage, f.supplier, f.cluster, f.member, model.clusters.joint_action,
        f.output_capacity, nominal, buyers, buyer_supplier, sales, price, market_index, r,
        f.sales, f.units, f.materials, f.local_inputs, f.utilisation, market_sales,
    )  # fmt: skip
    m.inside_sales = market_sales.reshape(m.demand.shape)
