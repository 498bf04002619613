"""Budgets every regime accounts for, and coordinators' legitimacy earned from needs met.

ODD "Associations" and "Government": legitimacy grows with the share of members' needs that
support met (plus, for an emergent coordinator, the members who organised themselves); appointed
coordinators cost a running cost paid before allocation; the open window shares its pot by
water-filling; money left unspent is carried to the next quarter or lapses (``policy.unspent``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model.government import fill_requests, govern
from sim.scenario.codes import APPOINTED, EMERGENT
from tests.conftest import small_model

PRESETS = sorted(p.stem for p in (Path(__file__).parents[1] / "scenarios").glob("*.yaml"))
LINES = ("budget_delivered", "budget_leaked", "budget_coordinators", "budget_unspent")
# many organised clusters: low membership threshold, firms join readily
ORGANISED = {
    "coordination__membership_threshold": 2,
    "coordination__membership_threshold_share": 0.0,
    "coordination__join_rate": 0.3,
}


def run(model, steps: int):
    for _ in range(steps):
        model.step()
    return model.history().iloc[1:]  # row 0: policy start, before any quarter of government


def test_coordinators_only_programme_earns_its_coordinators_no_legitimacy():
    model = small_model("top_down", seed=3, policy__budget_per_quarter=1e-6)
    start = model.config.coordination.appointed_legitimacy
    run(model, 16)
    c = model.clusters
    appointed, emergent = c.coordinator == APPOINTED, c.coordinator == EMERGENT
    assert appointed.any()
    assert c.legitimacy[appointed].max() <= start
    if emergent.any():
        assert c.legitimacy[appointed].mean() < c.legitimacy[emergent].mean()
    assert (c.needs_met[appointed] < 1e-6).all()  # support worth nothing meets no need


def test_support_that_meets_members_needs_raises_an_appointed_coordinators_legitimacy():
    rich = small_model("top_down", seed=3, policy__budget_per_quarter=4000.0)
    poor = small_model("top_down", seed=3, policy__budget_per_quarter=1e-6)
    for model in (rich, poor):
        run(model, 8)
    appointed = (rich.clusters.coordinator == APPOINTED) & (poor.clusters.coordinator == APPOINTED)
    assert appointed.any()
    assert rich.clusters.needs_met[appointed].mean() > poor.clusters.needs_met[appointed].mean()
    assert rich.clusters.legitimacy[appointed].mean() > poor.clusters.legitimacy[appointed].mean()


@pytest.mark.parametrize("preset", PRESETS)
def test_budget_identity_holds_every_quarter(preset):
    model = small_model(preset, seed=2, world__scale=1.0)
    history = run(model, 6)
    pol = model.config.policy
    total = history[list(LINES)].sum(axis=1)
    assert np.allclose(history["budget_available"], total, rtol=1e-9, atol=1e-9)
    assert (history[list(LINES)] >= -1e-9).all().all()
    assert np.allclose(history["support"], history["budget_delivered"] + history["budget_leaked"])
    if model.config.policy_active:
        carried_in = np.concatenate([[0.0], history["budget_carried"].to_numpy()[:-1]])
        assert np.allclose(history["budget_available"], pol.budget_per_quarter + carried_in)
    else:
        assert (history["budget_available"] == 0).all()


def test_delivered_budget_is_what_firms_received():
    model = small_model("top_down", seed=2)  # enrolled firms: no co-financing of their own
    model.step()  # the first plan designates clusters
    govern(model)  # a quarter of government, before any firm exits
    assert model.budget.delivered > 0
    assert np.isclose(model.budget.delivered, model.firms.support.sum())


def test_open_window_passes_what_a_capped_applicant_cannot_use_to_others():
    weight, request = np.array([10.0, 1.0, 1.0]), np.array([1.0, 5.0, 0.0])
    allocation = fill_requests(4.0, weight, request)
    assert np.allclose(allocation, [1.0, 3.0, 0.0])  # the pot is used, no one above its request
    every_request = fill_requests(100.0, weight, request)
    assert np.allclose(every_request, request)  # the rest stays unallocated


def test_open_window_spends_the_budget_when_applicants_can_use_it():
    # applicants who accept the participation cost (the schema default, not the calibrated one)
    model = small_model(
        "bottom_up",
        seed=4,
        policy__budget_per_quarter=20.0,
        instruments__takeup_cost=0.15,
        **ORGANISED,
    )
    history = run(model, 10)
    requested = history["budget_delivered"] + history["budget_leaked"]
    assert (history["budget_available"] > 0).all()
    assert requested.sum() > 0.9 * history["budget_available"].sum()
    assert history["budget_unspent"].sum() < 0.1 * history["budget_available"].sum()


def test_unspent_budget_is_carried_or_lapses():
    carry = run(small_model("bottom_up", seed=4), 6)  # few applicants: money left over
    lapse = run(small_model("bottom_up", seed=4, policy__unspent="lapse"), 6)
    assert carry["budget_unspent"].sum() > 0 and lapse["budget_unspent"].sum() > 0
    assert (lapse["budget_carried"] == 0).all()
    assert (lapse["budget_available"] == 400.0).all()
    assert np.allclose(carry["budget_carried"], carry["budget_unspent"])
    assert carry["budget_available"].iloc[-1] > 400.0


def test_appointed_coordinators_running_cost_reduces_the_money_delivered():
    free = small_model("top_down", seed=6, policy__appointed_coordinator_cost=0.0)
    costly = small_model("top_down", seed=6, policy__appointed_coordinator_cost=8.0)
    free.step()
    costly.step()
    appointed = np.count_nonzero(costly.clusters.coordinator == APPOINTED)
    assert appointed > 0
    assert free.latest["budget_coordinators"] == 0
    assert np.isclose(costly.latest["budget_coordinators"], 8.0 * appointed)
    spent = {m: m.latest["budget_delivered"] + m.latest["budget_leaked"] for m in (free, costly)}
    assert spent[costly] < spent[free]
    # a budget that cannot pay them all pays what it has; nothing is left for firms
    broke = small_model("top_down", seed=6, policy__budget_per_quarter=1.0)
    broke.step()
    assert np.isclose(broke.latest["budget_coordinators"], 1.0)
    assert broke.latest["budget_delivered"] == 0
