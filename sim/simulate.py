"""Run one simulation to completion and return its outcome tables: the unit every runner uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.scenario import Scenario


@dataclass
class RunResult:
    """Outcomes of one run: per-step aggregate, per-step per-cluster, and headline summary."""

    aggregate: pd.DataFrame  # one row per policy quarter (step 0 = policy start)
    clusters: pd.DataFrame  # one row per (step, cluster)
    summary: dict[str, float]  # headline outcomes of the run (see sim.metrics.summarise)


def simulate(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Build the model, run burn-in plus ``steps`` policy quarters, and collect outcomes.

    ``on_step(done, total)`` is called after each policy quarter (progress bars use it).
    """
    from sim.model import ClusterModel

    if steps is not None:
        scenario = scenario.model_copy(
            update={"run": scenario.run.model_copy(update={"steps": int(steps)})}
        )
    model = ClusterModel(scenario=scenario, seed=seed)
    total = scenario.run.steps
    for done in range(1, total + 1):
        model.step()
        if on_step is not None:
            on_step(done, total)
    return model.results()
