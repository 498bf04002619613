"""Support pays where it fits the firm's situation (docs/ODD.md, "Effects of support").

Equipment is a machine stock that raises capacity and costs upkeep: given to an idle firm it
adds no value added, given to a sold-out firm it adds sales. Take-up counts every instrument.

Twins are built from the same seed and differ only in the support given; the comparisons are
made in the quarter after the grant, when both twins still draw the same random numbers (later,
firms that hire or exit differently move the streams apart).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.firms import account
from sim.model.production import input_price, unit_cost
from sim.model.support import MAX_GRANT_PER_WORKER, apply_support
from sim.scenario.codes import EQUIPMENT, UPSTREAM
from tests.conftest import small_model


def twins(scenario: str = "no_policy", seed: int = 1, **overrides):
    return small_model(scenario, seed=seed, **overrides), small_model(
        scenario, seed=seed, **overrides
    )


def sellers_where(model, rule) -> np.ndarray:
    """Slots of the sellers (not upstream) whose utilisation satisfies ``rule``."""
    f = model.firms
    return np.flatnonzero(rule(f.utilisation) & (f.stage != UPSTREAM))


def grant_equipment(model, slots: np.ndarray) -> np.ndarray:
    """As much equipment as each firm can put to use in a quarter; returns the amounts."""
    amount = MAX_GRANT_PER_WORKER * np.maximum(model.firms.workers[slots], 1.0)
    apply_support(model, slots, EQUIPMENT, amount)
    return amount


def column_of(model, uids: np.ndarray, name: str) -> np.ndarray:
    """``name`` of the firms ``uids`` (alive ones), in the order of their uid."""
    f = model.firms
    rows = np.flatnonzero(np.isin(f.uid, uids))
    return getattr(f, name)[rows[np.argsort(f.uid[rows])]]


def test_equipment_raises_capacity_but_not_labour_productivity_or_unit_cost():
    treated, control = twins(seed=2)
    slots = sellers_where(treated, lambda u: u > 0)[:40]
    assert len(slots) == 40
    uids = treated.firms.uid[slots].copy()
    productivity = treated.firms.productivity.copy()
    grant_equipment(treated, slots)
    assert np.array_equal(treated.firms.productivity, productivity)
    assert np.array_equal(
        unit_cost(treated, input_price(treated)), unit_cost(control, input_price(control))
    )
    treated.step()
    control.step()
    more = column_of(treated, uids, "output_capacity") / column_of(control, uids, "output_capacity")
    assert (more > 1.0).all()
    # diminishing returns: a stock of 2 per worker adds effect x 2/3 at most
    effect = treated.config.instruments.equipment_effect
    assert more.max() <= 1 + effect * 2 / 3 + 1e-12


def test_equipment_depreciates_and_its_upkeep_comes_out_of_value_added_and_cash():
    treated, control = twins(seed=3)
    f = treated.firms
    slots = np.arange(0, f.size, 5)
    amount = grant_equipment(treated, slots)
    assert np.array_equal(f.equipment[slots], amount)
    account(treated)
    account(control)
    k = treated.config.instruments
    upkeep = k.equipment_running_cost * amount
    lost = control.firms.value_added[slots] - f.value_added[slots]
    assert lost == pytest.approx(upkeep, rel=1e-9)
    assert (lost > 0).all()
    others = np.setdiff1d(np.arange(f.size), slots)
    assert np.array_equal(f.value_added[others], control.firms.value_added[others])
    paid = control.firms.cash[slots] - f.cash[slots]  # the grant itself is free
    assert paid == pytest.approx(upkeep, rel=1e-9)
    assert f.equipment[slots] == pytest.approx(amount * (1 - k.equipment_depreciation))
    assert (f.equipment[slots] < amount).all()


def test_equipment_given_to_idle_firms_adds_no_value_added():
    treated, control = twins(seed=1)
    slots = sellers_where(treated, lambda u: u < 0.5)
    assert len(slots) > 20
    uids = treated.firms.uid[slots].copy()
    amount = grant_equipment(treated, slots)
    treated.step()
    control.step()
    gained = column_of(treated, uids, "value_added").sum()
    gained -= column_of(control, uids, "value_added").sum()
    upkeep = treated.config.instruments.equipment_running_cost * amount.sum()
    assert gained < 0  # machines without orders only cost their upkeep
    assert gained >= -1.05 * upkeep


def test_equipment_given_to_sold_out_firms_raises_their_sales():
    treated, control = twins(seed=1)
    slots = sellers_where(treated, lambda u: u >= 0.99)
    assert len(slots) > 20
    uids = treated.firms.uid[slots].copy()
    grant_equipment(treated, slots)
    treated.step()
    control.step()
    sales = column_of(treated, uids, "sales"), column_of(control, uids, "sales")
    assert sales[0].sum() > sales[1].sum() * 1.005
    assert (sales[0] > sales[1]).mean() > 0.5
    value_added = column_of(treated, uids, "value_added"), column_of(control, uids, "value_added")
    assert value_added[0].sum() > value_added[1].sum()


EVERY_INSTRUMENT = {f"policy__instrument_mix__{name}": 0.25 for name in
                    ("coaching", "equipment", "market_linkage", "credit")}  # fmt: skip


def test_takeup_counts_equipment_and_credit_received_by_enrolled_firms():
    # enrolled firms (top_down) are given equipment and credit; nobody shows up for coaching or
    # linkage when taking part costs more than any need can be worth
    model = small_model(
        "top_down", instruments__perception_noise=0.0, instruments__takeup_cost=5.0,
        **EVERY_INSTRUMENT,
    )  # fmt: skip
    model.step()
    assert model.takeup_offered > 0
    assert 2 * model.takeup_taken == model.takeup_offered
    assert model.latest["takeup_rate"] == pytest.approx(0.5)


def test_takeup_counts_every_instrument_an_applicant_receives():
    model = small_model("demand_driven", **EVERY_INSTRUMENT)  # voluntary: firms apply
    model.step()
    assert model.takeup_taken > 0
    # applicants take everything: four pairs each, of four on offer to every firm
    assert model.takeup_taken % 4 == 0 and model.takeup_offered % 4 == 0
    assert model.takeup_taken < model.takeup_offered


def test_a_second_linkage_dose_adds_less_visibility_than_the_first():
    """Awareness saturates (Nerlove & Arrow 1962; Simon & Arndt 1980): buyers who already know
    a firm are not won again by the next trade fair."""
    from sim.model.production import visibility
    from sim.scenario.codes import LINKAGE

    model = small_model("no_policy", seed=2)
    f = model.firms
    slots = sellers_where(model, lambda u: u >= 0)[:20]
    f.visibility[slots] = 0.0
    dose = np.full(len(slots), model.config.instruments.linkage_dose_cost)
    seen = [visibility(model)[slots].copy()]
    for _ in range(2):
        apply_support(model, slots, LINKAGE, dose)
        seen.append(visibility(model)[slots].copy())
    first, second = seen[1] - seen[0], seen[2] - seen[1]
    assert (first > 0).all()
    assert (second < first).all()


def test_bought_visibility_never_exceeds_its_ceiling_however_many_doses():
    from sim.model.production import visibility
    from sim.scenario.codes import LINKAGE

    model = small_model("no_policy", seed=2)
    f = model.firms
    slots = sellers_where(model, lambda u: u >= 0)[:20]
    f.visibility[slots] = 0.0
    base = visibility(model)[slots].copy()
    apply_support(model, slots, LINKAGE, np.full(len(slots), 1e4))
    added = visibility(model)[slots] - base
    ceiling = model.config.instruments.linkage_visibility
    assert (added > 0.99 * ceiling).all() and (added <= ceiling).all()
