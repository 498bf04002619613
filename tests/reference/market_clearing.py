"""Production and market clearing, as docs/ODD.md section 7 "Market clearing" and "Production"
read.

Reference for ``sim.model.market.Market.clear`` (``clear``) and for the part of
``sim.model.production.produce_and_sell`` up to and including the clearing (``sell``):
capacity with input shortfalls, unit cost, visibility, segment choice, the logit weights and
offers, and the sales. Input purchases and upstream sales (booked after the clearing) are not
restated here.

    For each product x segment, a seller's attractiveness is ``capacity x exp(b_q (quality -
    threshold) - b_p log(unit cost / reference) + visibility)``; outside competitors have
    ``outside_weight x exp(b_q (q_out - threshold) - b_p log(c_out))``. Demand (value) is shared
    in proportion; a seller sells at most its capacity x price; demand a full seller cannot
    serve returns to the market and is shared again (four rounds). Price is unit cost x (1 +
    markup) x the segment's premium. Visibility = bought market linkage + joint marketing x
    joint action (members) + trader visibility (producers tied to a trader).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from tests.reference import segment_choice

UPSTREAM, PRODUCER = 0, 1  # value-chain stages (sim/scenario/codes.py)
N_SEGMENTS = 3


@dataclass(frozen=True)
class ClearingRules:
    b_q: float  # quality_sensitivity
    b_p: float  # price_sensitivity
    threshold: np.ndarray
    rounds: int = 4  # "(four rounds)"


def clearing_rules(snapshot) -> ClearingRules:
    p = snapshot.config.market
    return ClearingRules(p.quality_sensitivity, p.price_sensitivity, snapshot.market.threshold)


def outside_attractiveness(market, r: ClearingRules) -> np.ndarray:
    """``outside_weight x exp(b_q (q_out - threshold) - b_p log(c_out))`` per [product, segment]."""
    return market.outside_weight * np.exp(
        r.b_q * (market.outside_quality - r.threshold) - r.b_p * np.log(market.outside_cost)
    )


def clear(market_index, weight, capacity_value, demand, outside, rounds=4):
    """Share each market's demand (value) among sellers and outside competitors.

    ``market_index``: each seller's market (product x segment, flattened); ``weight``: its
    attractiveness; ``capacity_value``: capacity x price, the most it can sell; ``demand`` and
    ``outside``: per market, flattened. Returns (sales per seller, value per unit of
    attractiveness per market, what firms expect from next quarter, ODD "Prediction").
    """
    n_markets = len(demand)
    sales = np.zeros(len(weight))
    still_selling = weight.copy()  # attractiveness of the sellers not yet full
    inside = np.bincount(market_index, weights=still_selling, minlength=n_markets)
    first_inside = inside
    to_share = demand
    for round_ in range(rounds):
        # "Demand (value) is shared in proportion" to attractiveness, outside competitors too
        per_weight = to_share / (inside + outside)
        offer = still_selling * per_weight[market_index]
        # "a seller sells at most its capacity x price"
        room = capacity_value - sales
        taken = np.minimum(offer, room)
        sales = sales + taken
        full = offer >= room
        still_selling = np.where(full, 0.0, still_selling)
        if round_ == rounds - 1 or not full.any():
            break
        # "demand a full seller cannot serve returns to the market and is shared again"
        # (among the sellers still open and the outside competitors)
        to_share = np.bincount(market_index, weights=offer - taken, minlength=n_markets)
        inside = np.bincount(market_index, weights=still_selling, minlength=n_markets)
    value_per_weight = demand / (first_inside + outside)
    return sales, value_per_weight


def sell(snapshot, failure_draws: np.ndarray | None = None, rules=None) -> SimpleNamespace:
    """``produce_and_sell`` up to the clearing, on the snapshot, drawing from ``snapshot.rng``
    in the model's order: one uniform per producer (inputs fail), then segment choice's draws.

    ``rules``: (segment_choice.SegmentRules, ClearingRules) to check a changed rule. Returns the
    new capacity and segment of every firm and, per seller, market, weight, capacity value and
    sales, and the market's new value per weight.
    """
    f, m, c = snapshot.firms, snapshot.market, snapshot.config
    p, rng = c.firms, snapshot.rng
    segment_rules, clearing = rules or (segment_choice.rules(snapshot), clearing_rules(snapshot))
    upstream, producer = f.stage == UPSTREAM, f.stage == PRODUCER
    has_supplier, member = f.supplier >= 0, f.member.astype(float)
    joint_action = snapshot.joint_action[f.cluster]

    # "Capacity = workers x productivity (upstream: x upstream_output_factor, in input units)
    # x (1 + equipment_effect x e / (1 + e)), e = machine stock per worker"
    per_worker = f.productivity * np.where(upstream, p.upstream_output_factor, 1.0)
    e = f.equipment / np.maximum(f.workers, 1.0)
    nominal = f.workers * per_worker * (1 + c.instruments.equipment_effect * e / (1 + e))
    # "a producer's inputs fail with probability 1 - reliability (higher with a local
    # supplier), cutting capacity by shortfall" (one draw per producer, in slot order)
    draws = rng.random(int(producer.sum()))
    reliability = np.where(has_supplier, p.local_reliability, p.outside_reliability)
    fails = np.zeros(len(nominal), dtype=bool)
    fails[producer] = draws >= reliability[producer]
    capacity = np.where(fails, nominal * (1 - p.shortfall), nominal)

    # "Input price: outside input_price; from a local supplier x (1 - local_input_discount);
    # members save joint_purchasing_saving x joint action more." Upstream firms buy raw material.
    local_price = p.input_price * (1 - p.local_input_discount)
    saving = c.coordination.joint_purchasing_saving * joint_action * member
    input_price = np.where(has_supplier, local_price, p.input_price) * (1 - saving)
    input_price = np.where(upstream, p.raw_material_cost, input_price)
    # "Unit cost = input coefficient x input price + (wage + overhead) / output per worker"
    coefficient = np.where(upstream, 1.0, p.input_coefficient)
    cost = coefficient * input_price + (p.wage + p.overhead_per_worker) / np.maximum(
        per_worker, 1e-9
    )
    # "Visibility = bought market linkage + joint marketing x joint action (members) + trader
    # visibility (producers tied to a trader)"; "bought market linkage adds s / (1 + s / v_max)
    # for a stock s of bought visibility, v_max = linkage_visibility"
    v_max = c.instruments.linkage_visibility
    stock = f.visibility
    bought = np.where(stock > 0, stock / (1 + stock / max(v_max, 1e-300)), 0.0)
    joint_marketing = c.coordination.joint_marketing_visibility * joint_action * member
    seen = bought + joint_marketing + p.trader_visibility * (f.trader >= 0)

    sellers = np.flatnonzero(~upstream)
    product = snapshot.cluster_product[f.cluster[sellers]]
    cost, seen = cost[sellers], seen[sellers]
    # the price term of the logit: b_p log(unit cost / reference) (relative cost floored 1e-9)
    price_disutility = clearing.b_p * np.log(np.maximum(cost / m.reference_cost[product], 1e-9))
    is_eligible = segment_choice.eligible(
        f.quality[sellers], f.knowledge[sellers], f.trader[sellers], segment_rules
    )
    # segment choice sees this quarter's capacity
    chooser = SimpleNamespace(**vars(snapshot))
    chooser.firms = SimpleNamespace(**{**vars(f), "output_capacity": capacity})
    segment = segment_choice.choose(
        f.segment, sellers, product, cost, price_disutility, seen, is_eligible, chooser,
        segment_rules,
    )  # fmt: skip
    # A firm whose quality slipped below its segment's threshold falls back to the highest
    # segment it qualifies for (the code's rule; the ODD does not spell it out)
    chosen = segment[sellers]
    still_eligible = is_eligible[np.arange(len(sellers)), chosen]
    highest = N_SEGMENTS - 1 - np.argmax(is_eligible[:, ::-1], axis=1)  # the last if none
    chosen = np.where(still_eligible, chosen, highest)
    segment[sellers] = chosen

    # "a seller's attractiveness is its customer base x exp(b_q (quality - threshold) - b_p
    # log(unit cost / reference) + visibility)"
    exponent = segment_choice.logit_exponent(
        f.quality[sellers], clearing.threshold[chosen], price_disutility, seen, clearing.b_q
    )
    # "Price is unit cost x (1 + markup) x the segment's premium"
    price = cost * (1 + p.markup) * m.premium[chosen]
    capacity_value = capacity[sellers] * price
    # an entrant yet to sell starts with entry_goodwill of its capacity's value; the others
    # bring their customer base
    newcomer = f.goodwill[sellers] < 0
    goodwill = np.where(
        newcomer, snapshot.config.market.entry_goodwill * capacity_value, f.goodwill[sellers]
    )
    weight = np.exp(exponent) * goodwill
    market_index = product * N_SEGMENTS + chosen
    sales, value_per_weight = clear(
        market_index,
        weight,
        capacity_value,
        (m.demand * m.shock_multiplier).ravel(),
        outside_attractiveness(m, clearing).ravel(),
        clearing.rounds,
    )
    return SimpleNamespace(
        capacity=capacity, segment=segment, sellers=sellers, market_index=market_index,
        weight=weight, capacity_value=capacity_value, sales=sales, goodwill=goodwill,
        value_per_weight=value_per_weight.reshape(m.demand.shape),
    )  # fmt: skip
