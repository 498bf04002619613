"""Production and sale: input prices, unit costs, visibility, segment choice, capacity, market
clearing and input purchases. Every rule applies to all firms at once; the rules themselves and
the per-firm passes are compiled loops in ``sim/model/kernels/production.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.kernels import production as kernels
from sim.model.kernels.compiled import columns_of
from sim.model.kernels.production import Rates
from sim.scenario.codes import N_SEGMENTS

if TYPE_CHECKING:
    from sim.model import ClusterModel


def rates(model: ClusterModel) -> np.ndarray:
    """The parameters production reads, as the kernels take them (``kernels.RATES``: one
    record of ``Rates``); the two derived ones (the local input price, labour and overhead per
    worker) are worked out here, once."""
    p, coordination = model.config.firms, model.config.coordination
    values = Rates(
        input_price=float(p.input_price),
        local_input_price=float(p.input_price * (1 - p.local_input_discount)),
        raw_material_cost=float(p.raw_material_cost),
        input_coefficient=float(p.input_coefficient),
        labour_cost=float(p.wage + p.overhead_per_worker),
        upstream_output_factor=float(p.upstream_output_factor),
        equipment_effect=float(model.config.instruments.equipment_effect),
        local_reliability=float(p.local_reliability),
        outside_reliability=float(p.outside_reliability),
        shortfall=float(p.shortfall),
        markup=float(p.markup),
        outside_input_sales=float(p.outside_input_sales),
        trader_visibility=float(p.trader_visibility),
        linkage_visibility=float(model.config.instruments.linkage_visibility),
        export_knowledge=float(p.export_knowledge),
        trader_quality_bridge=float(p.trader_quality_bridge),
        joint_purchasing_saving=float(coordination.joint_purchasing_saving),
        joint_marketing_visibility=float(coordination.joint_marketing_visibility),
        entry_goodwill=float(model.config.market.entry_goodwill),
        customer_turnover=float(model.config.market.customer_turnover),
    )
    return np.array(values, dtype=np.float64).view(kernels.RATES)


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
    rng = model.rng
    terms = kernels.Sellers(sellers, cost, seen, product, eligible, price_disutility)
    draw = rng.random(len(sellers))
    review = kernels.reviewers(draw, model.config.firms.segment_review_rate, sellers)
    if not len(review.slot):
        return
    f, market = model.firms, market_terms(model)
    # exp(logit exponent) per segment, and exp(perception error): numpy takes the exponentials
    misperception = rng.standard_normal((len(review.slot), N_SEGMENTS))
    attraction = kernels.review_exponents(
        f.quality,
        f.knowledge,
        price_disutility,
        seen,
        review.position,
        review.slot,
        market.threshold,
        market.quality_sensitivity,
        1.0,  # the price terms come scaled
        model.config.instruments.perception_noise,
        misperception,
    )
    np.exp(attraction, out=attraction)
    np.exp(misperception, out=misperception)
    firms = columns_of(f, kernels.Offering)
    kernels.pick_segments(
        firms,
        terms,
        review,
        attraction,
        misperception,
        market.premium,
        market.value_per_weight,
        rates(model),
    )


def produce_and_sell(model: ClusterModel) -> None:
    """Production capacity, input reliability, pricing, segment choice, market clearing, input
    purchases: five compiled calls (capacity and sellers' terms, the reviewers' exponents,
    segment choice and offers, the clearing, the booking), with numpy's draws, logarithms
    and exponentials between them (a kernel's ``exp``/``log`` would differ from numpy's in the
    last bit)."""
    f, r, rng, m = model.firms, rates(model), model.rng, model.market
    # the quarter's uniforms in one call: a draw per producer (its inputs may fail to arrive:
    # capacity falls short), then a draw per seller (whether it reviews its segment), and a
    # spare the first pass reads, unused
    n_producers, n_sellers = kernels.stage_counts(f.stage)
    draws = np.empty(n_producers + n_sellers + 1)
    rng.random(out=draws[:-1])
    # quality and traders do not move within production: eligibility holds for both uses
    c, market = model.clusters, market_terms(model)
    nominal, s, buyers, review = kernels.capacity_and_seller_terms(
        columns_of(f, kernels.Producers),
        c.joint_action,
        c.product,
        market.reference_cost,
        market.threshold,
        draws,
        n_producers,
        model.config.firms.segment_review_rate,
        r,
    )
    # the relative cost's log, scaled, is the price term (Market.price_disutility): numpy
    # logs in place, the passes scale as they read
    np.log(s.price_disutility, out=s.price_disutility)
    price_sensitivity = m.params.price_sensitivity
    # segment choice (choose_segments' rule), then what each seller offers; a firm whose
    # quality slipped below its segment's threshold falls back to the best it can
    misperception = rng.standard_normal((len(review.slot), N_SEGMENTS))
    attraction = kernels.review_exponents(
        f.quality,
        f.knowledge,
        s.price_disutility,
        s.seen,
        review.position,
        review.slot,
        market.threshold,
        market.quality_sensitivity,
        price_sensitivity,
        model.config.instruments.perception_noise,
        misperception,
    )
    np.exp(attraction, out=attraction)
    np.exp(misperception, out=misperception)
    offered = kernels.choose_and_offer(
        columns_of(f, kernels.Offering),
        s,
        review,
        attraction,
        misperception,
        market.threshold,
        market.premium,
        market.value_per_weight,
        market.quality_sensitivity,
        price_sensitivity,
        r,
    )
    weight = np.exp(offered.exponent, out=offered.exponent)  # logit weights, Market.firm_weight
    weight *= offered.goodwill
    sales = m.clear(offered.market_index, weight, offered.capacity_value)
    # inputs: producers buy from their local supplier up to its capacity, the rest outside;
    # upstream firms sell locally to tied producers and part of their spare capacity outside;
    # customer bases renewed, sales per market summed on the way (Market.record_sales)
    m.inside_sales = kernels.book_sales_and_inputs(
        columns_of(f, kernels.Booked),
        c.joint_action,
        c.niche_factor,
        nominal,
        buyers.position,
        buyers.supplier,
        offered.price,
        offered.market_index,
        sales,
        r,
        m.outside_weight,
        m.outside_sales,
    )


def market_terms(model: ClusterModel) -> kernels.MarketTerms:
    """What sellers read of the market now (``value_per_weight``: the last clearing's)."""
    m = model.market
    return kernels.MarketTerms(
        threshold=m.threshold,
        premium=m.premium,
        reference_cost=m.reference_cost,
        value_per_weight=m.value_per_weight.ravel(),
        quality_sensitivity=float(m.params.quality_sensitivity),
    )
