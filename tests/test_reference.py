"""The compiled rules agree with the slow, readable references in ``tests/reference/``.

Each test puts a small world in a state, copies the state and the random generator
(``tests/reference/state.snapshot``), runs the model's own function (the model-level function
taking ``model``, never a kernel) and the reference on the copy with the same draws, and
compares.

Exact or not: every comparison here is exact (``np.array_equal``, bit for bit). The kernels
promise the whole-array numpy results bit for bit (``sim/model/kernels/compiled.py``): they do
only IEEE additions, multiplications, divisions and comparisons, in the order the numpy
expressions do them, and leave ``exp``/``log`` and the random draws to numpy; numba compiles
without fastmath, so it neither reorders nor fuses (FMA) them. The references are written in
that same operation order, call numpy's ``exp``/``log`` on whole arrays as the model does, and
sum per market with ``np.bincount`` (in index order, as the kernels add). A 1e-12 tolerance
would hide a changed order of operations, which is a change the kernels' docs promise not to
make; if a future kernel legitimately reorders arithmetic, these ``array_equal`` become
``allclose(rtol=1e-12)``.

Each reference also has a test that a deliberately changed rule disagrees, so the comparison
can fail.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import replace

import numpy as np
import pytest

from sim.model.government import allocate, blend_mix, deliver
from sim.model.production import (
    choose_segments,
    eligible_segments,
    input_price,
    produce_and_sell,
    unit_cost,
    visibility,
)
from sim.model.support import apply_support, assess_needs, productivity_gap
from sim.scenario.codes import EMERGENT, INSTRUMENTS, UPSTREAM
from tests.conftest import small_model
from tests.reference import market_clearing, segment_choice, support_effects
from tests.reference.state import snapshot

# (scenario, seed, policy quarters after burn-in, overrides): regimes, seeds, a full review
WORLDS = [
    ("top_down", 1, 0, {}),
    # the schema's participation cost: at the calibrated one few firms apply and the grant
    # rules would be exercised on almost no one
    ("demand_driven", 2, 2, {"instruments__takeup_cost": 0.15}),
    ("bottom_up", 3, 3, {"instruments__takeup_cost": 0.15}),
    ("top_down", 4, 1, {"firms__segment_review_rate": 1.0}),
]
WORLD_IDS = [f"{name}-seed{seed}-q{steps}" for name, seed, steps, _ in WORLDS]


@functools.cache
def _built(name: str, seed: int, steps: int, overrides: tuple) -> object:
    model = small_model(name, seed=seed, **dict(overrides))
    for _ in range(steps):
        model.step()
    return model


def world(index: int):
    """A fresh copy of a built world (tests change the model they get)."""
    name, seed, steps, overrides = WORLDS[index]
    return copy.deepcopy(_built(name, seed, steps, tuple(sorted(overrides.items()))))


def same_stream(a: np.random.Generator, b: np.random.Generator) -> bool:
    return a.bit_generator.state == b.bit_generator.state


def seller_terms(model):
    """What produce_and_sell hands segment choice, from the model-level rule functions."""
    f = model.firms
    sellers = np.flatnonzero(f.stage != UPSTREAM)
    product = model.clusters.product[f.cluster[sellers]]
    cost = unit_cost(model, input_price(model))[sellers]
    disutility = model.market.price_disutility(product, cost)
    seen = visibility(model)[sellers]
    return sellers, product, cost, disutility, seen, eligible_segments(model, sellers)


# ---- 1. segment choice ----------------------------------------------------------------------
@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_eligibility_agrees_with_reference(index):
    model = world(index)
    f = model.firms
    sellers = np.flatnonzero(f.stage != UPSTREAM)
    s = snapshot(model)
    expected = segment_choice.eligible(
        s.firms.quality[sellers], s.firms.knowledge[sellers], s.firms.trader[sellers],
        segment_choice.rules(s),
    )  # fmt: skip
    got = eligible_segments(model, sellers)
    assert np.array_equal(got, expected)
    assert got[:, 2].any() and not got[:, 2].all()  # the export door is open to some only


@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_segment_choice_agrees_with_reference(index):
    model = world(index)
    terms = seller_terms(model)
    s = snapshot(model)
    before = model.firms.segment.copy()
    choose_segments(model, *terms)
    expected = segment_choice.choose(s.firms.segment, *terms, s, segment_choice.rules(s))
    assert np.array_equal(model.firms.segment, expected)
    assert same_stream(model.rng, s.rng)  # same number and kind of draws
    assert (expected != before).any()  # some firm moved: the comparison is not vacuous


def test_segment_choice_reference_with_another_threshold_disagrees():
    model = world(3)  # every seller reviews
    terms = seller_terms(model)
    s = snapshot(model)
    choose_segments(model, *terms)
    r = segment_choice.rules(s)
    changed = replace(r, threshold=r.threshold + np.array([0.0, 0.05, 0.0]))
    expected = segment_choice.choose(s.firms.segment, *terms, s, changed)
    assert not np.array_equal(model.firms.segment, expected)


# ---- 2. production and market clearing -------------------------------------------------------
def record_clearing(model) -> dict:
    """Wrap ``model.market.clear`` to keep what produce_and_sell hands it (weights, offers)."""
    record: dict = {}
    clear = model.market.clear

    def recording(market_index, weight, capacity_value, *args, **kwargs):
        record.update(
            market_index=market_index.copy(),
            weight=weight.copy(),
            capacity_value=capacity_value.copy(),
        )
        return clear(market_index, weight, capacity_value, *args, **kwargs)

    model.market.clear = recording
    return record


@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_produce_and_sell_up_to_clearing_agrees_with_reference(index):
    model = world(index)
    s = snapshot(model)
    record = record_clearing(model)
    produce_and_sell(model)
    expected = market_clearing.sell(s)
    f, sellers = model.firms, expected.sellers
    assert np.array_equal(f.output_capacity, expected.capacity)
    assert np.array_equal(f.segment, expected.segment)
    assert np.array_equal(record["market_index"], expected.market_index)
    assert np.array_equal(record["weight"], expected.weight)  # logit weights
    assert np.array_equal(record["capacity_value"], expected.capacity_value)  # offers
    assert np.array_equal(f.sales[sellers], expected.sales)
    assert np.array_equal(model.market.value_per_weight, expected.value_per_weight)
    assert same_stream(model.rng, s.rng)
    # not vacuous: some sellers are sold out, some are not, some inputs failed
    full = expected.sales >= expected.capacity_value
    assert full.any() and not full.all()
    assert (f.output_capacity < f.workers * f.productivity * 0.9999)[f.stage == 1].any()


@pytest.mark.parametrize("squeeze", [1.0, 0.4, 0.1])
@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_market_clear_water_filling_agrees_with_reference(index, squeeze):
    """``Market.clear`` alone, on produce_and_sell's weights and offers with capacities
    squeezed, so that demand passes on through several rounds of water-filling."""
    model = world(index)
    record = record_clearing(model)
    produce_and_sell(model)
    s = snapshot(model)
    m = model.market
    market_index, weight = record["market_index"], record["weight"]
    capacity_value = record["capacity_value"] * squeeze
    sales = m.clear(market_index, weight, capacity_value)
    r = market_clearing.clearing_rules(s)
    demand = (s.market.demand * s.market.shock_multiplier).ravel()
    outside = market_clearing.outside_attractiveness(s.market, r).ravel()
    expected, value_per_weight = market_clearing.clear(
        market_index, weight, capacity_value, demand, outside
    )
    assert np.array_equal(sales, expected)
    assert np.array_equal(m.value_per_weight.ravel(), value_per_weight)
    assert np.array_equal(m.outside_attractiveness().ravel(), outside)
    if squeeze == 0.4:  # capped sellers pass demand on to open ones: one round sells less
        fewer, _ = market_clearing.clear(
            market_index, weight, capacity_value, demand, outside, rounds=1
        )
        assert fewer.sum() < expected.sum()


def test_market_clearing_reference_without_water_filling_disagrees():
    model = world(0)
    s = snapshot(model)
    record_clearing(model)
    produce_and_sell(model)
    sr, cr = segment_choice.rules(s), market_clearing.clearing_rules(s)
    expected = market_clearing.sell(s, rules=(sr, replace(cr, rounds=1)))
    assert not np.array_equal(model.firms.sales[expected.sellers], expected.sales)


# ---- 3. support effects -----------------------------------------------------------------------
FIRM_STATE_CHANGED = ("productivity", "quality", "knowledge", "visibility", "cash", "equipment",
                      "support", "support_total")  # fmt: skip


def assert_firms_agree(model, s):
    for name in FIRM_STATE_CHANGED:
        assert np.array_equal(getattr(model.firms, name), getattr(s.firms, name)), name


@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_productivity_gap_agrees_with_reference(index):
    model = world(index)
    expected = support_effects.productivity_gap(snapshot(model))
    gap = productivity_gap(model)
    assert np.array_equal(gap, expected)
    assert (gap > 0).any() and (gap == 0).any()


@pytest.mark.parametrize("instrument", range(len(INSTRUMENTS)), ids=INSTRUMENTS)
@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_apply_support_agrees_with_reference(index, instrument):
    model = world(index)
    draw = np.random.default_rng(100 * index + instrument)  # the test's own, not the model's
    slots = np.sort(draw.choice(model.firms.size, size=60, replace=False))
    amount = draw.uniform(0.1, 8.0, size=len(slots))
    s = snapshot(model)
    before = copy.deepcopy(s.firms)
    apply_support(model, slots, instrument, amount)
    support_effects.apply(s, slots, instrument, amount)
    assert_firms_agree(model, s)
    column = {0: "quality", 1: "equipment", 2: "visibility", 3: "cash"}[instrument]
    assert (getattr(s.firms, column) != getattr(before, column)).sum() > 30  # it did something


def test_support_reference_with_another_coaching_rule_disagrees():
    model = world(1)
    slots = np.arange(0, model.firms.size, 7)
    amount = np.full(len(slots), 2.0)
    s = snapshot(model)
    apply_support(model, slots, 0, amount)
    changed = replace(support_effects.rules(s), coaching_knowledge=0.06)
    support_effects.apply(s, slots, 0, amount, r=changed)
    assert np.array_equal(model.firms.quality, s.firms.quality)  # only knowledge differs
    assert not np.array_equal(model.firms.knowledge, s.firms.knowledge)


@pytest.mark.parametrize("index", range(len(WORLDS)), ids=WORLD_IDS)
def test_deliver_grants_agree_with_reference(index):
    """``government.deliver`` on the inputs ``govern`` would give it, from model-level
    functions (assess_needs, blend_mix, allocate); applicants as ``mark_applicants`` rules."""
    model = world(index)
    f, c, pol = model.firms, model.clusters, model.config.policy
    if not c.selected.any() and pol.open_share == 0:
        c.selected[: c.count // 3] = True  # a plan has not run yet (burn-in only): select some
    if pol.open_share > 0 and not (c.coordinator > 0).any():
        # no association has organised yet in this small world: give the largest a coordinator
        organised = np.argsort(-c.members, kind="stable")[:8]
        c.coordinator[organised], c.legitimacy[organised] = EMERGENT, 0.5
    size = np.bincount(f.cluster, minlength=c.count)
    reachable = c.selected | ((c.coordinator > 0) & (pol.open_share > 0))
    assessed = assess_needs(model, reachable, size)
    mix = blend_mix(model, assessed.needs, assessed.member_needs)
    asked, perceived = assessed.asked, assessed.perceived
    cost = model.config.instruments.takeup_cost + (pol.cofinancing_share if pol.voluntary else 0)
    applicant = np.zeros(f.size, dtype=bool)
    useful = perceived * mix[f.cluster[asked]]
    applicant[asked] = ((useful[:, 0] + useful[:, 1]) + useful[:, 2]) + useful[:, 3] > cost
    allocation = allocate(model, applicant)
    assert allocation.sum() > 0
    s = snapshot(model)
    spent = deliver(model, allocation, mix, applicant, asked, perceived)
    expected = support_effects.deliver(
        s, allocation, mix, applicant, asked, perceived, model.regions.capacity[c.region], pol,
        model.config.instruments.takeup_cost,
    )  # fmt: skip
    assert np.array_equal(spent, expected)
    assert_firms_agree(model, s)
    assert (s.firms.support > 0).sum() > 10


def test_a_reference_world_has_sellers_with_bought_visibility():
    """The visibility rule (bought linkage saturates) is compared where it bites."""
    model = world(1)  # demand_driven, two policy quarters
    f = model.firms
    assert (f.visibility[f.stage != UPSTREAM] > 0).any()
