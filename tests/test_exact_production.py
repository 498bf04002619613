"""Production and market clearing in fewer compiled calls give what the numpy expressions they
replace gave, to the bit, with the same random draws (issue 12, round 4).

Each test keeps the former numpy form of a step here, as the reference, and runs it beside the
model's compiled form on copies of the same state: ``Market.evolve`` (its arithmetic in
``drift_growth``, its two normal draws in one call), ``Market.clear`` (effective demand,
outside competitors' weight and the value per weight in ``clear_markets``), the renewal of
outside competitors' customers (in ``book_sales_and_inputs``), and the review draws taken with
the failure draws and selected in the capacity pass.
"""

from __future__ import annotations

import copy

import numpy as np
from conftest import small_model

from sim.model.kernels import production as kernels
from sim.model.kernels.production import water_fill
from sim.model.production import market_terms, produce_and_sell, rates
from sim.scenario.codes import PRODUCER, UPSTREAM
from sim.scenario.schema import Shock


def _evolve_in_numpy(m, policy_step: int) -> None:
    """``Market.evolve`` as numpy did it before round 4 (two draws, whole-array arithmetic)."""
    p = m.params
    shape = m.demand.shape
    m.growth += 0.1 * (m.trend - m.growth) + p.growth_drift * m.rng.standard_normal(shape)
    change = m.growth + p.volatility * m.rng.standard_normal(shape)
    m.demand *= np.exp(change)
    m.recent_growth = 0.75 * m.recent_growth + 0.25 * change
    m.shock_multiplier += (1 - m.shock_multiplier) * m._recovery
    for shock in p.shocks:
        if shock.step == policy_step:
            m.apply_shock(shock)
    m.outside_quality = m.outside_quality + p.outside_improvement
    m.outside_cost = m.outside_cost * (1 - p.outside_cost_decline)


MARKET_STATE = ("demand", "growth", "recent_growth", "shock_multiplier", "outside_quality")


def test_compiled_demand_evolution_is_the_numpy_one() -> None:
    """Forty quarters with shocks hitting and recovering: every market array, the outside
    cost and the market's random stream agree bit for bit."""
    model = small_model("top_down", seed=3)
    ours, theirs = model.market, copy.deepcopy(model.market)
    for step in range(40):
        if step in (5, 17):
            shock = Shock(step=step, size=0.4, segments=["export", "domestic_low"])
            ours.apply_shock(shock)
            theirs.apply_shock(shock)
        ours.evolve(step)
        _evolve_in_numpy(theirs, step)
        for name in MARKET_STATE:
            assert getattr(ours, name).tobytes() == getattr(theirs, name).tobytes(), (step, name)
        assert ours.outside_cost == theirs.outside_cost
        assert ours.rng.bit_generator.state == theirs.rng.bit_generator.state
    assert (ours.shock_multiplier < 1).any()  # shocks were still recovering: not vacuous


def _clear_in_numpy(m, market_index, weight, capacity_value):
    """``Market.clear`` as numpy did it before round 4 around the same ``water_fill``."""
    p = m.params
    outside = (
        m.outside_weight
        * np.exp(
            p.quality_sensitivity * (m.outside_quality - m.threshold)
            - p.price_sensitivity * np.log(m.outside_cost)
        )
    ).ravel()
    demand = (m.demand * m.shock_multiplier).ravel()
    sales, inside, outside_sales = water_fill(
        market_index, weight, capacity_value, demand, outside, 4
    )
    value_per_weight = (demand / (inside + outside)).reshape(m.demand.shape)
    return sales, value_per_weight, outside_sales.reshape(m.demand.shape)


def test_compiled_clearing_is_the_numpy_one() -> None:
    """Random sellers, weights and capacities (some markets empty, some sellers capped) on a
    shocked market: sales, value per weight and outside sales agree bit for bit."""
    model = small_model("top_down", seed=5)
    m = model.market
    m.apply_shock(Shock(step=0, size=0.5, segments=["export"]))
    rng = np.random.default_rng(12)
    capped = 0
    for case in range(200):
        n = int(rng.integers(0, 400))
        market_index = rng.integers(0, m.demand.size, n)
        weight = rng.lognormal(0.0, 1.0, n) * (rng.random(n) < 0.95)
        capacity_value = rng.lognormal(np.log(m.demand.mean() / max(n, 1)), 1.5, n)
        expected = _clear_in_numpy(m, market_index, weight, capacity_value)
        sales = m.clear(market_index, weight, capacity_value)
        assert sales.tobytes() == expected[0].tobytes(), case
        assert m.value_per_weight.tobytes() == expected[1].tobytes(), case
        assert m.outside_sales.tobytes() == expected[2].tobytes(), case
        capped += int(np.count_nonzero(sales >= capacity_value))
    assert capped  # water-filling passed orders on in some cases


def test_outside_customers_renew_as_in_numpy_and_draws_keep_their_order() -> None:
    """A quarter's production: outside competitors' customer base is the numpy renewal of
    what they sold; the review draws follow the failure draws in the same stream, and the
    reviewers the capacity pass gathers are those ``reviewers`` selects from them."""
    model = small_model("bottom_up", seed=2)
    for _ in range(2):
        model.step()
    before = model.market.outside_weight.copy()
    rng = copy.deepcopy(model.rng)
    f = model.firms
    stage = f.stage.copy()
    produce_and_sell(model)
    turnover = model.config.market.customer_turnover
    renewed = (1 - turnover) * before + turnover * model.market.outside_sales
    assert model.market.outside_weight.tobytes() == renewed.tobytes()
    assert not np.array_equal(renewed, before)

    # the draws: one per producer, then one per seller, then the reviewers' normals
    n_producers = int(np.count_nonzero(stage == PRODUCER))
    sellers = np.flatnonzero(stage != UPSTREAM)
    failure, review_draw = rng.random(n_producers), rng.random(len(sellers))
    rate = model.config.firms.segment_review_rate
    review = kernels.reviewers(review_draw, rate, sellers)
    rng.standard_normal((len(review.slot), 3))
    assert rng.bit_generator.state == model.rng.bit_generator.state
    assert len(failure) and 0 < len(review.slot) < len(sellers)


def test_the_capacity_pass_selects_the_reviewers_reviewers_selects() -> None:
    """Over random draws and review rates, the reviewers gathered in the capacity pass are
    ``reviewers``' selection from the same draws, position for position."""
    model = small_model("demand_driven", seed=4)
    f = model.firms
    n_producers, n_sellers = kernels.stage_counts(f.stage)
    assert n_producers == np.count_nonzero(f.stage == PRODUCER)
    assert n_sellers == np.count_nonzero(f.stage != UPSTREAM)
    sellers = np.flatnonzero(f.stage != UPSTREAM)
    rng, market = np.random.default_rng(13), market_terms(model)
    for rate in (0.0, 0.1, 0.25, 0.9, 1.0):
        draws = rng.random(n_producers + n_sellers + 1)
        capacity = f.output_capacity.copy()
        _, s, _, review = kernels.capacity_and_seller_terms(
            kernels.Producers(*(getattr(f, name) for name in kernels.Producers._fields)),
            model.clusters.joint_action,
            model.clusters.product,
            market.reference_cost,
            market.threshold,
            draws,
            n_producers,
            rate,
            rates(model),
        )
        f.output_capacity[:] = capacity
        expected = kernels.reviewers(draws[n_producers:-1], rate, sellers)
        assert np.array_equal(s.slot, sellers)
        assert np.array_equal(review.position, expected.position), rate
        assert np.array_equal(review.slot, expected.slot), rate


def test_the_parameters_record_reads_back_as_its_rates() -> None:
    """``rates`` packs the parameters as one record and ``rates_of`` unpacks it in compiled
    code: every field comes back as ``Rates`` named it (a field added to one and not the other
    fails here, or fails to compile)."""
    model = small_model("top_down", seed=1, market__customer_turnover=0.123)
    record = rates(model)
    unpacked = kernels.rates_of(record)
    assert isinstance(unpacked, kernels.Rates)
    assert unpacked == kernels.Rates(*record[0].tolist())
    assert unpacked.customer_turnover == 0.123
    assert len(set(unpacked)) > 10  # distinct values: a shifted field would be caught
