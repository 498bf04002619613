"""Compiled per-firm loops of production and sale: ``sim/model/production.py`` and the market
clearing of ``sim/model/market.py`` call them.

Each rule (a firm's input price, unit cost, visibility, eligibility; a seller's logit
exponent) is written once, as a scalar kernel, and used both by the whole-population functions
and by the fused passes of ``produce_and_sell``. Exponentials, logarithms and random draws stay
in numpy (see ``sim/model/kernels/compiled.py``): kernels return exponents and take draws as
arrays. Stage and segment codes come from ``sim.scenario.codes``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import kernel
from sim.model.kernels.support import equipped
from sim.scenario.codes import EXPORT, N_SEGMENTS, PRODUCER, UPSTREAM


class Rates(NamedTuple):
    """The parameters production reads, as floats. Kernels take them as one record
    (``RATES``, a structured array of one row: ``rates[0].markup``): a record crosses into
    compiled code in well under a microsecond, a NamedTuple of 20 floats in ~2.5."""

    input_price: float
    local_input_price: float  # input_price * (1 - local_input_discount)
    raw_material_cost: float
    input_coefficient: float
    labour_cost: float  # wage + overhead, per worker
    upstream_output_factor: float
    equipment_effect: float  # capacity gain of a full machine stock (sim.model.support)
    local_reliability: float
    outside_reliability: float
    shortfall: float
    markup: float
    outside_input_sales: float
    trader_visibility: float
    linkage_visibility: float  # most visibility bought linkage can add (awareness saturates)
    export_knowledge: float
    trader_quality_bridge: float
    joint_purchasing_saving: float
    joint_marketing_visibility: float
    entry_goodwill: float  # a newcomer's customer base, as a share of its capacity's value
    customer_turnover: float  # share of a customer base that re-chooses each quarter


RATES = np.dtype([(name, np.float64) for name in Rates._fields])


@kernel
def rates_of(rates):
    """The parameters' record (``RATES``) as a ``Rates`` tuple, which a loop keeps in
    registers: a record's fields are memory, which a loop reads again after every store into
    an array (it cannot tell the record from the arrays it writes)."""
    record = rates[0]
    return Rates(
        record.input_price,
        record.local_input_price,
        record.raw_material_cost,
        record.input_coefficient,
        record.labour_cost,
        record.upstream_output_factor,
        record.equipment_effect,
        record.local_reliability,
        record.outside_reliability,
        record.shortfall,
        record.markup,
        record.outside_input_sales,
        record.trader_visibility,
        record.linkage_visibility,
        record.export_knowledge,
        record.trader_quality_bridge,
        record.joint_purchasing_saving,
        record.joint_marketing_visibility,
        record.entry_goodwill,
        record.customer_turnover,
    )


# ---- numpy semantics, market rules and clearing -----------------------------------------------


@kernel
def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats in a kernel: NaN if either is (builtin ``min`` drops a NaN
    second argument), ``b`` on a tie as numpy returns it."""
    if a != a:
        return a
    return a if a < b else b


@kernel
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats in a kernel (NaN if either is, ``b`` on a tie)."""
    if a != a:
        return a
    return a if a > b else b


@kernel
def logit_exponent(quality, threshold, price_disutility, visibility, quality_sensitivity):
    """A seller's logit utility in a segment, capped at 50 so its exponential cannot overflow:
    quality over the segment's threshold, less the price term, plus visibility."""
    utility = quality_sensitivity * (quality - threshold) - price_disutility + visibility
    return minimum(utility, 50.0)


@kernel
def logit_exponents(segment, price_disutility, quality, visibility, threshold, sensitivity):
    """``logit_exponent`` of every seller in its segment (numpy takes the exponential)."""
    exponent = np.empty(len(price_disutility))
    for k in range(len(exponent)):
        exponent[k] = logit_exponent(
            quality[k], threshold[segment[k]], price_disutility[k], visibility[k], sensitivity
        )
    return exponent


@kernel
def relative_costs(unit_cost, product, reference_cost):
    """Each seller's unit cost over its product's reference, floored at 1e-9 (numpy logs it)."""
    relative = np.empty(len(unit_cost))
    for k in range(len(relative)):
        relative[k] = maximum(unit_cost[k] / reference_cost[product[k]], 1e-9)
    return relative


@kernel
def water_fill(market_index, weight, capacity_value, remaining, outside, rounds):
    """``Market.clear``'s rounds, one pass over the sellers each; returns (sales, the logit
    weight of the cluster's sellers per market, outside competitors' sales per market: they
    serve all the orders they attract, having no capacity limit here). Per-market sums add
    sellers in index order, as ``np.bincount`` does. The pass is branch-free (a
    seller's values are selected in registers and always stored): whether a seller is full is
    a coin toss the processor cannot predict, and a mispredicted branch costs more than the
    arithmetic."""
    n_markets = len(outside)
    sales = np.zeros(len(weight))
    open_weight = weight.astype(np.float64)  # a copy: full sellers drop out of it
    inside = np.zeros(n_markets)
    for k in range(len(weight)):
        inside[market_index[k]] += open_weight[k]
    all_weight = inside.copy()
    outside_sales = np.zeros(n_markets)
    for round_ in range(rounds):
        per_weight = remaining / (inside + outside)
        outside_sales += per_weight * outside
        returned = np.zeros(n_markets)  # what buyers could not get from full sellers
        still_open = np.zeros(n_markets)
        any_full = False
        for k in range(len(weight)):
            market, still = market_index[k], open_weight[k]
            offer = still * per_weight[market]
            room = capacity_value[k] - sales[k]
            taken = minimum(offer, room)
            sales[k] += taken
            full = offer >= room
            any_full |= full
            still = 0.0 if full else still
            open_weight[k] = still
            returned[market] += offer - taken
            still_open[market] += still
        if round_ == rounds - 1 or not any_full:
            break
        remaining, inside = returned, still_open
    return sales, all_weight, outside_sales


@kernel
def clear_markets(
    market_index,
    weight,
    capacity_value,
    demand,
    shock_multiplier,
    outside_weight,
    outside_advantage,
    rounds,
):
    """``Market.clear`` in one call: each market's effective demand (``demand`` x
    ``shock_multiplier``) and its outside competitors' logit weight (their customer base
    ``outside_weight`` x ``outside_advantage``, the per-segment exponential numpy took), then
    ``water_fill``. Returns sales per seller, and per [product, segment] the value a unit of
    logit weight drew (demand over all sellers' weight) and the outside competitors' sales."""
    n_products, n_segments = demand.shape
    n_markets = n_products * n_segments
    effective, outside = np.empty(n_markets), np.empty(n_markets)
    for p in range(n_products):
        for s in range(n_segments):
            effective[p * n_segments + s] = demand[p, s] * shock_multiplier[p, s]
            outside[p * n_segments + s] = outside_weight[p, s] * outside_advantage[s]
    sales, inside, outside_sales = water_fill(
        market_index, weight, capacity_value, effective, outside, rounds
    )
    value_per_weight = np.empty(n_markets)
    for m in range(n_markets):
        value_per_weight[m] = effective[m] / (inside[m] + outside[m])
    shape = (n_products, n_segments)
    return sales, value_per_weight.reshape(shape), outside_sales.reshape(shape)


@kernel
def drift_growth(
    growth, trend, recent_growth, shock_multiplier, recovery, draws, growth_drift, volatility
):
    """``Market.evolve``'s arithmetic, per [product, segment], in place: growth drifts toward
    its trend with a random walk, demand's log change this quarter is growth plus noise
    (returned; numpy exponentiates it), what a market watcher sees of growth follows it, and
    shocked demand recovers. ``draws``: standard normals [2, product, segment], the walk's
    then the noise's."""
    n_products, n_segments = growth.shape
    change = np.empty((n_products, n_segments))
    for p in range(n_products):
        for s in range(n_segments):
            g = growth[p, s]
            g = g + (0.1 * (trend[p, s] - g) + growth_drift * draws[0, p, s])
            growth[p, s] = g
            c = g + volatility * draws[1, p, s]
            change[p, s] = c
            recent_growth[p, s] = 0.75 * recent_growth[p, s] + 0.25 * c
            multiplier = shock_multiplier[p, s]
            shock_multiplier[p, s] = multiplier + (1.0 - multiplier) * recovery[p, s]
    return change


# ---- firm rules ---------------------------------------------------------------------------


@kernel
def output_per_worker(stage, productivity, r):
    """Units a worker makes per quarter; upstream units are inputs, counted in input units."""
    return productivity * (r.upstream_output_factor if stage == UPSTREAM else 1.0)


@kernel
def input_price(stage, supplier, joint_action, member, r):
    """Cheaper from a local supplier, cheaper again with joint purchasing; upstream firms pay
    for raw material."""
    if stage == UPSTREAM:
        return r.raw_material_cost
    price = r.local_input_price if supplier >= 0 else r.input_price
    return price * (1 - r.joint_purchasing_saving * joint_action * (1.0 if member else 0.0))


@kernel
def unit_cost(stage, price_of_inputs, per_worker, r):
    """Inputs plus labour and overhead per unit, at capacity."""
    coefficient = 1.0 if stage == UPSTREAM else r.input_coefficient
    return coefficient * price_of_inputs + r.labour_cost / maximum(per_worker, 1e-9)


@kernel
def bought_visibility(stock, r):
    """What a stock of bought linkage (``linkage_visibility`` per dose, decaying) adds to a
    firm's visibility: awareness saturates, so a dose adds less the better buyers already know
    the firm; one dose's stock gives half of ``linkage_visibility``, the most it can reach."""
    if stock <= 0.0:
        return 0.0
    return stock / (1.0 + stock / r.linkage_visibility)


@kernel
def visibility(own, joint_action, member, trader, r):
    """Bought linkage (saturating), joint marketing and a trader's network add up."""
    joint = r.joint_marketing_visibility * joint_action * (1.0 if member else 0.0)
    return bought_visibility(own, r) + joint + r.trader_visibility * (1.0 if trader >= 0 else 0.0)


@kernel
def mark_eligible(eligible, k, quality, knowledge, trader, threshold, r):
    """Row ``k`` of ``eligible``: the segments whose threshold the quality clears; export also
    needs market knowledge or a trader (whose finishing bridges part of the gap)."""
    for s in range(N_SEGMENTS):
        eligible[k, s] = quality >= threshold[s]
    on_its_own = (knowledge >= r.export_knowledge) & (quality >= threshold[EXPORT])
    through_trader = (trader >= 0) & (quality + r.trader_quality_bridge >= threshold[EXPORT])
    eligible[k, EXPORT] = on_its_own | through_trader


# ---- whole-population passes ----------------------------------------------------------------


@kernel
def outputs_per_worker(stage, productivity, rates):
    """``output_per_worker`` of every firm."""
    r = rates_of(rates)
    per_worker = np.empty(len(stage))
    for i in range(len(stage)):
        per_worker[i] = output_per_worker(stage[i], productivity[i], r)
    return per_worker


@kernel
def input_prices(stage, supplier, cluster, member, joint_action, rates):
    """``input_price`` of every firm."""
    r = rates_of(rates)
    price = np.empty(len(stage))
    for i in range(len(stage)):
        price[i] = input_price(stage[i], supplier[i], joint_action[cluster[i]], member[i], r)
    return price


@kernel
def unit_costs(stage, price_of_inputs, per_worker, rates):
    """``unit_cost`` of every firm."""
    r = rates_of(rates)
    cost = np.empty(len(stage))
    for i in range(len(stage)):
        cost[i] = unit_cost(stage[i], price_of_inputs[i], per_worker[i], r)
    return cost


@kernel
def visibilities(own, cluster, member, trader, joint_action, rates):
    """``visibility`` of every firm."""
    r = rates_of(rates)
    seen = np.empty(len(own))
    for i in range(len(own)):
        seen[i] = visibility(own[i], joint_action[cluster[i]], member[i], trader[i], r)
    return seen


@kernel
def eligibility(sellers, quality, knowledge, trader, threshold, rates):
    """[seller, segment]: ``mark_eligible`` for each of ``sellers``."""
    r = rates_of(rates)
    eligible = np.empty((len(sellers), N_SEGMENTS), dtype=np.bool_)
    for k, i in enumerate(sellers):
        mark_eligible(eligible, k, quality[i], knowledge[i], trader[i], threshold, r)
    return eligible


# ---- produce_and_sell, pass by pass -----------------------------------------------------------


class Producers(NamedTuple):
    """The firm columns ``capacity_and_seller_terms`` reads, and the one it writes
    (``output_capacity``); views of ``model.firms``."""

    stage: np.ndarray
    workers: np.ndarray
    productivity: np.ndarray
    supplier: np.ndarray
    cluster: np.ndarray
    member: np.ndarray
    visibility: np.ndarray
    trader: np.ndarray
    quality: np.ndarray
    knowledge: np.ndarray
    equipment: np.ndarray  # machine stock: raises capacity, not labour productivity
    output_capacity: np.ndarray  # written


class Offering(NamedTuple):
    """The firm columns segment choice and offers read, and those they write (``segment``, and
    ``goodwill`` for an entrant's first sale)."""

    segment: np.ndarray  # written
    quality: np.ndarray
    knowledge: np.ndarray
    output_capacity: np.ndarray
    goodwill: np.ndarray  # written


class Booked(NamedTuple):
    """The firm columns ``book_sales_and_inputs`` reads (``stage`` to ``output_capacity``) and
    writes (``sales`` to ``utilisation``)."""

    stage: np.ndarray
    supplier: np.ndarray
    cluster: np.ndarray
    member: np.ndarray
    output_capacity: np.ndarray
    sales: np.ndarray  # written
    units: np.ndarray  # written
    materials: np.ndarray  # written
    local_inputs: np.ndarray  # written
    utilisation: np.ndarray  # written
    goodwill: np.ndarray  # written


class MarketTerms(NamedTuple):
    """What sellers read of the market (``sim.model.production.market_terms``); the kernels
    take its columns one by one."""

    threshold: np.ndarray  # quality threshold per segment
    premium: np.ndarray  # price premium per segment
    reference_cost: np.ndarray  # per product
    value_per_weight: np.ndarray  # the last clearing's, per market (product x segment)
    quality_sensitivity: float


class Sellers(NamedTuple):
    """The sellers' terms ``capacity_and_seller_terms`` gathers: one row per seller (the firms
    not upstream, in slot order)."""

    slot: np.ndarray
    cost: np.ndarray  # unit cost
    seen: np.ndarray  # visibility
    product: np.ndarray
    eligible: np.ndarray  # [seller, segment]
    # the relative cost, until numpy logs it in place; times the price sensitivity, the
    # logit's price term (``Market.price_disutility``), which the passes work out as they read
    price_disutility: np.ndarray


class Buyers(NamedTuple):
    """The sellers that buy inputs from a local supplier (producers with one)."""

    position: np.ndarray  # among the sellers
    supplier: np.ndarray  # the supplier's slot


class Review(NamedTuple):
    """The sellers reviewing their segment this quarter (``reviewers``)."""

    position: np.ndarray  # among the sellers
    slot: np.ndarray


class Offers(NamedTuple):
    """Per seller, what it brings to market (``offers``)."""

    market_index: np.ndarray  # product x segment
    goodwill: np.ndarray  # the customer base the seller brings to its market
    price: np.ndarray
    capacity_value: np.ndarray  # capacity at that price
    exponent: np.ndarray  # logit exponent; numpy takes the exponential in place


@kernel
def stage_counts(stage):
    """How many producers and how many sellers (firms not upstream): the sizes of the
    quarter's first draws (``capacity_and_seller_terms``)."""
    producers = sellers = 0
    for i in range(len(stage)):
        producers += stage[i] == PRODUCER
        sellers += stage[i] != UPSTREAM
    return producers, sellers


@kernel
def capacity_and_seller_terms(
    firms,
    cluster_joint_action,
    cluster_product,
    reference_cost,
    threshold,
    draws,
    n_producers,
    review_rate,
    rates,
):
    """One pass over all firms (``Producers``): write this quarter's capacity
    (``firms.output_capacity``) and return nominal capacity, the sellers' terms (``Sellers``),
    the local buyers (``Buyers``) and the sellers reviewing their segment (``Review``),
    gathered into compact arrays the later passes stream through. Per cluster: its joint
    action and product; ``reference_cost``: per product; ``threshold``: per segment.

    ``draws``: uniforms, one per producer in slot order (``n_producers`` of them), then one
    per seller in slot order, then a spare. Capacity: a producer's inputs fail to arrive when
    its draw reaches its supplier's reliability. Review: a seller reviews its segment when its
    draw falls below ``review_rate`` (what ``reviewers`` selects).

    Per seller: unit cost, visibility, product, eligible segments, and its cost relative to the
    product's reference (floored at 1e-9; numpy logs it into the price term). Buyers: the
    sellers that buy inputs from a local supplier (producers with one), and that supplier.

    The pass is branch-free (firms' stages interleave, a branch would mispredict): every firm
    reads a failure and a review draw and writes its terms at the next seller slot, and only a
    producer's draw, a seller's slot, a buyer's slot and a reviewer's slot count (the next firm
    overwrites the others).
    """
    r = rates_of(rates)
    # the bundles' columns under their own names, so the loop reads as the rule
    stage, supplier, cluster, member = firms.stage, firms.supplier, firms.cluster, firms.member
    workers, productivity, output_capacity = (
        firms.workers,
        firms.productivity,
        firms.output_capacity,
    )
    own_visibility, trader, quality, knowledge = (
        firms.visibility,
        firms.trader,
        firms.quality,
        firms.knowledge,
    )
    equipment = firms.equipment
    n = len(stage)
    nominal = np.empty(n)
    sellers = np.empty(n, dtype=np.int64)
    cost, seen, relative = np.empty(n), np.empty(n), np.empty(n)
    product = np.empty(n, dtype=np.int64)
    eligible = np.empty((n, N_SEGMENTS), dtype=np.bool_)
    buyers, buyer_supplier = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    reviewing, review_slot = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    review_draw = draws[n_producers:]
    producer = k = n_buyers = n_review = 0
    for i in range(n):
        st, tied, c = stage[i], supplier[i], cluster[i]
        per_worker = output_per_worker(st, productivity[i], r)
        nominal_i = equipped(workers[i] * per_worker, equipment[i], workers[i], r.equipment_effect)
        reliability = r.local_reliability if tied >= 0 else r.outside_reliability
        is_producer = st == PRODUCER
        fails = is_producer & (draws[producer] >= reliability)
        output_capacity[i] = nominal_i * (1 - r.shortfall) if fails else nominal_i
        nominal[i] = nominal_i
        producer += is_producer

        joint_action, is_member, its_trader = cluster_joint_action[c], member[i], trader[i]
        price = input_price(st, tied, joint_action, is_member, r)
        cost_k = unit_cost(st, price, per_worker, r)
        sellers[k] = i
        cost[k] = cost_k
        seen[k] = visibility(own_visibility[i], joint_action, is_member, its_trader, r)
        product[k] = cluster_product[c]
        relative[k] = maximum(cost_k / reference_cost[cluster_product[c]], 1e-9)
        mark_eligible(eligible, k, quality[i], knowledge[i], its_trader, threshold, r)
        buyers[n_buyers], buyer_supplier[n_buyers] = k, tied
        n_buyers += is_producer & (tied >= 0)
        is_seller = st != UPSTREAM
        reviewing[n_review], review_slot[n_review] = k, i
        n_review += is_seller & (review_draw[k] < review_rate)
        k += is_seller
    terms = Sellers(sellers[:k], cost[:k], seen[:k], product[:k], eligible[:k], relative[:k])
    local_buyers = Buyers(buyers[:n_buyers], buyer_supplier[:n_buyers])
    return nominal, terms, local_buyers, Review(reviewing[:n_review], review_slot[:n_review])


@kernel
def reviewers(draw, review_rate, sellers):
    """The sellers whose draw falls below the review rate: their positions among the sellers
    and their slots (``np.flatnonzero`` and a gather, in one branch-free pass)."""
    reviewing = np.empty(len(draw), dtype=np.int64)
    review = np.empty(len(draw), dtype=np.int64)
    n = 0
    for k in range(len(draw)):
        reviewing[n], review[n] = k, sellers[k]
        n += draw[k] < review_rate
    return Review(reviewing[:n], review[:n])


@kernel
def review_exponents(
    quality,
    knowledge,
    log_cost,
    seen,
    review_position,
    review_slot,
    threshold,
    quality_sensitivity,
    price_sensitivity,
    perception_noise,
    noise,
):
    """What numpy exponentiates for the reviewing firms (``Review``: ``review_position``
    among the sellers, ``review_slot``): each one's logit exponent in every segment (returned),
    and its perception errors (``noise``, standard normal draws, scaled in place: the noise
    shrinks with market knowledge). ``quality``, ``knowledge``: firm columns; ``log_cost``,
    ``seen``: per seller, the logged relative cost (``Sellers.price_disutility``), whose
    product with ``price_sensitivity`` is the price term, and the visibility."""
    exponent = np.empty((len(review_slot), N_SEGMENTS))
    for j in range(len(review_slot)):
        i, k = review_slot[j], review_position[j]
        spread = perception_noise * (1 - knowledge[i])
        price_term = log_cost[k] * price_sensitivity
        for s in range(N_SEGMENTS):
            exponent[j, s] = logit_exponent(
                quality[i], threshold[s], price_term, seen[k], quality_sensitivity
            )
            noise[j, s] = spread * noise[j, s]
    return exponent


@kernel
def pick_segments(
    firms, sellers, review, attraction, misperception, premium, value_per_weight, rates
):
    """Each reviewing firm takes the eligible segment with the best margin it senses (written to
    ``firms.segment``): expected sales (its orders: customer base x attraction at the last
    clearing's value per weight, capped by capacity) times the margin, times its perception
    error. A firm brings its customer base to whichever segment it serves (its buyers know it);
    an entrant yet to sell starts with ``entry_goodwill`` of its capacity's value. The choice
    is ``np.argmax``'s (the first best, or the first NaN), made branch-free: which segment wins
    is a coin toss to the processor. ``premium``: per segment; ``value_per_weight``: the last
    clearing's, per market (product x segment, flat)."""
    r = rates_of(rates)
    markup = r.markup
    for j in range(len(review.slot)):
        i, k = review.slot[j], review.position[j]
        capacity, goodwill = firms.output_capacity[i], firms.goodwill[i]
        best, best_sensed, settled = 0, -np.inf, False
        for s in range(N_SEGMENTS):
            price = sellers.cost[k] * (1 + markup) * premium[s]
            base = goodwill if goodwill >= 0 else r.entry_goodwill * capacity * price
            weight = base * attraction[j, s]
            sales = minimum(
                weight * value_per_weight[sellers.product[k] * N_SEGMENTS + s],
                capacity * price,
            )
            expected = sales * (1 - 1 / ((1 + markup) * premium[s]))
            sensed = expected * misperception[j, s] if sellers.eligible[k, s] else -np.inf
            better = (not settled) & ((sensed > best_sensed) | (sensed != sensed))
            best = s if better else best
            best_sensed = sensed if better else best_sensed
            settled |= sensed != sensed
        firms.segment[i] = best


@kernel
def settled_segment(eligible, k, segment):
    """Seller ``k``'s segment, or, if it no longer qualifies for it, the highest segment it does
    (the last if none)."""
    if eligible[k, segment]:
        return segment
    for s in range(N_SEGMENTS - 1, -1, -1):
        if eligible[k, s]:
            return s
    return N_SEGMENTS - 1


@kernel
def offers(firms, sellers, threshold, premium, quality_sensitivity, price_sensitivity, rates):
    """Per seller, after settling its segment (written back to ``firms.segment``): its market
    (product x segment), customer base, price, capacity at that price, and logit exponent
    (numpy takes the exponential: the logit weight is goodwill x exp(exponent),
    ``Market.firm_weight``). Capacity caps what a seller can deliver; it attracts no buyers. An
    entrant yet to sell (goodwill -1) starts with ``entry_goodwill`` of its capacity's value.
    ``threshold``, ``premium``: per segment; the price term is the seller's logged relative
    cost times ``price_sensitivity``.
    """
    r = rates_of(rates)
    n = len(sellers.slot)
    market_index = np.empty(n, dtype=np.int64)
    goodwill, price, capacity_value, exponent = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        i = sellers.slot[k]
        s = settled_segment(sellers.eligible, k, firms.segment[i])
        firms.segment[i] = s
        market_index[k] = sellers.product[k] * N_SEGMENTS + s
        price[k] = sellers.cost[k] * (1 + r.markup) * premium[s]
        capacity_value[k] = firms.output_capacity[i] * price[k]
        base = firms.goodwill[i]
        base = r.entry_goodwill * capacity_value[k] if base < 0 else base
        firms.goodwill[i] = base
        goodwill[k] = base
        exponent[k] = logit_exponent(
            firms.quality[i],
            threshold[s],
            sellers.price_disutility[k] * price_sensitivity,
            sellers.seen[k],
            quality_sensitivity,
        )
    return Offers(market_index, goodwill, price, capacity_value, exponent)


@kernel
def choose_and_offer(
    firms,
    sellers,
    review,
    attraction,
    misperception,
    threshold,
    premium,
    value_per_weight,
    quality_sensitivity,
    price_sensitivity,
    rates,
):
    """``pick_segments`` for the reviewing firms, then ``offers`` for every seller: segment
    choice and what each seller brings to market, in one call."""
    pick_segments(
        firms, sellers, review, attraction, misperception, premium, value_per_weight, rates
    )
    return offers(firms, sellers, threshold, premium, quality_sensitivity, price_sensitivity, rates)


@kernel
def renewed_customers(customers, sold, customer_turnover):
    """A customer base after a quarter's sales: a share ``customer_turnover`` of it re-chooses
    and follows whom it was served by (replicator dynamics with inertia)."""
    return (1.0 - customer_turnover) * customers + customer_turnover * sold


@kernel
def book_sales_and_inputs(
    firms,
    joint_action,
    niche_factor,
    nominal,
    buyer_position,
    buyer_supplier,
    price,
    market_index,
    seller_sales,
    rates,
    outside_weight,
    outside_sales,
):
    """Book sales and inputs into ``firms`` (``Booked``). First what producers ask of their
    local suppliers (sums in slot order, as ``np.bincount``); then one pass over all firms
    writes each column once: a supplier fills the same share of every order, the rest is bought
    outside; upstream firms sell to tied producers and part of their spare capacity outside.
    The pass also sums the sellers' sales (``seller_sales``, the clearing's) per market and
    returns them, [product, segment] (``Market.record_sales``' sums). ``joint_action``: per
    cluster; ``nominal``: per firm; ``buyer_position``, ``buyer_supplier``: ``Buyers``;
    ``price``, ``market_index``: ``Offers``'.

    A seller's customer base follows whom it served (``renewed_customers``): customers whose
    orders it could not fill are lost to the rivals that served them; then its cluster's own
    buyer network grows or shrinks (``niche_factor``, per cluster). Outside competitors'
    customer base (``outside_weight``, [product, segment], renewed in place) follows what they
    sold (``outside_sales``) the same way.

    Branch-free, as ``capacity_and_seller_terms``: every firm works out every stage's rule,
    reading the next seller's sales, and keeps its own stage's (a firm not a seller adds
    +0.0 to a market, which changes no sum)."""
    r = rates_of(rates)
    output_capacity, stage, supplier = firms.output_capacity, firms.stage, firms.supplier
    cluster, member, units, sales = firms.cluster, firms.member, firms.units, firms.sales
    materials, local_inputs, utilisation = firms.materials, firms.local_inputs, firms.utilisation
    goodwill, turnover = firms.goodwill, r.customer_turnover
    market_sales = np.zeros(outside_weight.size)
    asked = np.zeros(len(stage))
    for b in range(len(buyer_position)):
        k = buyer_position[b]
        asked[buyer_supplier[b]] += seller_sales[k] / price[k] * r.input_coefficient
    if len(seller_sales) == 0:  # no sellers: upstream firms read one dummy seller
        seller_sales, price, market_index = np.zeros(1), np.ones(1), np.zeros(1, np.int64)
    last = len(seller_sales) - 1
    k = 0
    for i in range(len(stage)):
        st, tied = stage[i], supplier[i]
        is_seller, is_producer, is_upstream = st != UPSTREAM, st == PRODUCER, st == UPSTREAM
        next_seller = min(k, last)
        sold = seller_sales[next_seller]
        sold_units = sold / price[next_seller]
        need = sold_units * r.input_coefficient
        # a producer without a supplier reads slot -1's share, unused
        share = minimum(1.0, output_capacity[tied] / maximum(asked[tied], 1e-12))
        local = need * share if tied >= 0 else 0.0
        joint = 1 - r.joint_purchasing_saving * (
            joint_action[cluster[i]] * (1.0 if member[i] else 0.0)
        )
        producer_materials = (local * r.local_input_price + (need - local) * r.input_price) * joint
        sold_local = minimum(asked[i], output_capacity[i])
        upstream_units = sold_local + r.outside_input_sales * (output_capacity[i] - sold_local)
        u = upstream_units if is_upstream else sold_units
        units[i] = u
        sales[i] = u * r.local_input_price if is_upstream else sold
        other_materials = u * r.raw_material_cost if is_upstream else need * r.input_price
        materials[i] = producer_materials if is_producer else other_materials
        local_inputs[i] = local if is_producer else 0.0
        utilisation[i] = u / maximum(nominal[i], 1e-12)
        market_sales[market_index[next_seller]] += sold if is_seller else 0.0
        renewed = renewed_customers(goodwill[i], sold, turnover) * niche_factor[cluster[i]]
        goodwill[i] = renewed if is_seller else goodwill[i]
        k += is_seller
    n_products, n_segments = outside_weight.shape
    for p in range(n_products):
        for s in range(n_segments):
            outside_weight[p, s] = renewed_customers(
                outside_weight[p, s], outside_sales[p, s], turnover
            )
    return market_sales.reshape((n_products, n_segments))
