"""A copy of the model state the references read: plain arrays and the scenario's parameters.

The references never touch the model itself: they work on a ``Snapshot`` taken before the
model's function runs, with a copy of the model's random generator, so both sides see the same
state and the same draws.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sim.model.firm_state import FIRM_COLUMNS


@dataclass
class Snapshot:
    firms: SimpleNamespace  # every firm column (sim/model/firm_state.py), copied
    cluster_product: np.ndarray  # product of each cluster
    joint_action: np.ndarray  # per cluster
    market: SimpleNamespace  # the market's arrays (sim/model/market.py), copied
    config: object  # the scenario (read only: firms, market, instruments, coordination)
    rng: np.random.Generator  # a copy of model.rng, at the same point of its stream


def snapshot(model) -> Snapshot:
    f, m = model.firms, model.market
    firms = SimpleNamespace(**{name: getattr(f, name).copy() for name in FIRM_COLUMNS})
    market = SimpleNamespace(
        threshold=m.threshold.copy(),
        premium=m.premium.copy(),
        reference_cost=m.reference_cost.copy(),
        value_per_weight=m.value_per_weight.copy(),
        demand=m.demand.copy(),
        shock_multiplier=m.shock_multiplier.copy(),
        outside_weight=m.outside_weight.copy(),
        outside_quality=np.array(m.outside_quality, dtype=float),
        outside_cost=float(m.outside_cost),
    )
    return Snapshot(
        firms=firms,
        cluster_product=model.clusters.product.copy(),
        joint_action=model.clusters.joint_action.copy(),
        market=market,
        config=model.config,
        rng=copy.deepcopy(model.rng),
    )
