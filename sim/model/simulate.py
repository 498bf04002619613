"""Run one simulation to completion and return its outcome tables: the unit every runner uses."""

from __future__ import annotations

from collections.abc import Callable

from sim.model.groups import simulate_groups
from sim.model.model import ClusterModel
from sim.model.results import RunResult
from sim.scenario.schema import Scenario


def simulate(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Build the model, run burn-in plus ``steps`` policy quarters, and collect outcomes.

    ``on_step(done, total)`` is called after each policy quarter (progress bars use it).
    """
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


# What an experiment file's ``outcomes`` key names: the function that turns (scenario, seed)
# into a run's result. The run key of a sweep includes the name.
RUN_FUNCTIONS: dict[str, Callable[[Scenario, int], RunResult]] = {
    "standard": simulate,
    "groups": simulate_groups,
}
