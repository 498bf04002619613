"""Tie dynamics in one compiled call (``kernels.firms.form_and_lapse_ties``) are the numpy way
they replaced, to the tie and to the draw: the same vertical partners, the same cooperation
ties in the same order, the same degrees, and the generator left in the same state."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.firms import update_ties
from sim.model.kernels import firms as fk
from sim.model.ties import PartnerIndex
from sim.scenario.codes import DOWNSTREAM, UPSTREAM
from tests.conftest import small_model


def numpy_way(model, partners: PartnerIndex) -> None:
    """``update_ties`` as it was before the compiled call: numpy's draws between kernels."""
    f, p, rng, c = model.firms, model.config.firms, model.rng, model.clusters
    brokerage = 1.0 + model.config.coordination.brokerage * c.legitimacy * (c.coordinator > 0)
    linked_suppliers, linked_traders = fk.count_linked(f.supplier, f.trader)
    u_supplier, u_trader = rng.random(linked_suppliers), rng.random(linked_traders)
    unlinked = fk.lapse(f.supplier, f.trader, f.stage, u_supplier, u_trader, p.tie_decay)
    if len(model.ties):
        model.ties.keep(rng.random(len(model.ties)) >= p.tie_decay)
    for column, stage, rate, n_unlinked in (
        (f.supplier, UPSTREAM, p.vertical_tie_rate, unlinked[0]),
        (f.trader, DOWNSTREAM, p.buyer_tie_rate, unlinked[1]),
    ):
        u = rng.random(n_unlinked)
        seekers = fk.unlinked_producers_seeking(f.stage, column, f.cluster, rate * brokerage, u)
        if len(seekers):
            column[seekers] = partners.draw(f.cluster[seekers], stage, rng)
    degree, cap = model.ties.degree(f.size), p.max_horizontal_ties
    chance = p.horizontal_tie_rate * (1.0 + model.config.coordination.brokerage * c.joint_action)
    u = rng.random(fk.count_below(degree, cap))
    seekers = fk.below_cap_seeking(degree, cap, f.cluster, chance, u)
    if len(seekers):
        partner = partners.draw(f.cluster[seekers], f.stage[seekers], rng)
        model.ties.add(seekers, partner)


@pytest.mark.parametrize("scenario", ["top_down", "bottom_up"])
def test_compiled_tie_dynamics_are_the_numpy_way(scenario: str) -> None:
    compiled, reference = small_model(scenario, seed=3), small_model(scenario, seed=3)
    formed = 0
    for _ in range(6):
        for model, rule in ((compiled, update_ties), (reference, numpy_way)):
            before = len(model.ties)
            rule(model, PartnerIndex(model.firms, model.clusters.count))
            formed += len(model.ties) - before
        f, g = compiled.firms, reference.firms
        assert np.array_equal(f.supplier, g.supplier) and np.array_equal(f.trader, g.trader)
        assert np.array_equal(compiled.ties.a, reference.ties.a)
        assert np.array_equal(compiled.ties.b, reference.ties.b)
        assert np.array_equal(compiled.ties.degree(f.size), reference.ties.degree(g.size))
        assert compiled.rng.random() == reference.rng.random()  # the same draws were taken
        compiled.step()
        reference.step()
    assert formed != 0  # ties did form and lapse along the way
