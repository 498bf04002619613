"""Shared fixtures: small worlds that run in a fraction of a second."""

from __future__ import annotations

import pytest

from sim.model import ClusterModel

SMALL_WORLD = {"world.n_clusters": 30, "world.n_regions": 4, "run.burn_in": 4}


def small_model(scenario: str = "top_down", seed: int = 1, **overrides) -> ClusterModel:
    """A 30-cluster world; ``overrides`` use double underscores for dots (policy__monitoring)."""
    dotted = {key.replace("__", "."): value for key, value in overrides.items()}
    return ClusterModel(scenario=scenario, seed=seed, overrides={**SMALL_WORLD, **dotted})


@pytest.fixture
def make_model():
    return small_model
