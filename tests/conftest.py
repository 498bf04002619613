"""Shared fixtures: small worlds that run in a fraction of a second."""

from __future__ import annotations

import pytest

from sim.model import ClusterModel

SMALL_WORLD = {"world.n_clusters": 30, "world.n_regions": 4, "run.burn_in": 4}


def assumed_defaults() -> dict[str, object]:
    """Overrides (double underscores) that put the calibrated keys back at the schema's assumed
    defaults, for mechanism tests whose claim holds under stated conditions that the calibrated
    presets do not meet (each such test says so, and docs/findings.md reports the difference)."""
    from sim.report.parameters import calibrated_values
    from sim.scenario.schema import Scenario

    defaults = Scenario.model_validate({})
    out = {}
    for key in calibrated_values():
        section, name = key.split(".")
        out[f"{section}__{name}"] = getattr(getattr(defaults, section), name)
    return out


def small_model(scenario: str = "top_down", seed: int = 1, **overrides) -> ClusterModel:
    """A 30-cluster world; ``overrides`` use double underscores for dots (policy__monitoring)."""
    dotted = {key.replace("__", "."): value for key, value in overrides.items()}
    return ClusterModel(scenario=scenario, seed=seed, overrides={**SMALL_WORLD, **dotted})


@pytest.fixture
def make_model():
    return small_model
