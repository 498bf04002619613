"""The outcome registry (sim.model.outcomes) and what runs return agree exactly: every column and
summary key a run returns is declared at its level, and nothing is declared that it does not
return, for every regime preset (with and without a shock) and for the group run function."""

from __future__ import annotations

import pytest

from sim.model import outcomes
from sim.model.groups import simulate_groups
from sim.model.metrics import CLUSTER_COLUMNS
from sim.scenario.files import load_scenario
from sim.scenario.presets import PRESETS
from tests.conftest import SMALL_WORLD, small_model

STEPS = 5
SHOCK = [{"step": 2, "size": 0.5, "segments": ["export"]}]


def _run(preset: str, shocked: bool):
    model = small_model(preset, **({"market__shocks": SHOCK} if shocked else {}))
    for _ in range(STEPS):
        model.step()
    return model, model.results()


@pytest.mark.parametrize("shocked", [False, True], ids=["calm", "shock"])
@pytest.mark.parametrize("preset", PRESETS)
def test_registry_is_exactly_what_a_run_returns(preset: str, shocked: bool) -> None:
    model, result = _run(preset, shocked)
    conditions = (outcomes.SHOCK,) if shocked else ()
    assert list(result.aggregate.columns) == list(outcomes.names("aggregate"))
    assert list(result.clusters.columns) == list(outcomes.names("cluster"))
    assert list(result.summary) == list(outcomes.names("summary", conditions=conditions))
    assert list(model.cluster_table().columns) == [
        name for name in outcomes.names("cluster") if name != "step"
    ]
    assert list(model.history().columns) == list(outcomes.names("aggregate"))


def test_cluster_columns_are_the_registry_measurements() -> None:
    assert outcomes.names("cluster", identifiers=False) == CLUSTER_COLUMNS
    identifiers = [o.name for o in outcomes.outcomes("cluster") if o.identifier]
    assert identifiers == ["step", "cluster", "name", "product", "region"]
    assert [o.name for o in outcomes.outcomes("aggregate") if o.identifier] == ["step"]


def test_group_run_outcomes_are_declared_families() -> None:
    """simulate_groups adds aggregate columns and summary keys: each is declared (a family with
    ``<group>``, or designated_count), and each declared group outcome is returned."""
    overrides = {**SMALL_WORLD, "run.steps": STEPS}
    result = simulate_groups(load_scenario("indonesia", overrides), seed=1)  # has a shock
    for level, returned in (
        ("aggregate", list(result.aggregate.columns)),
        ("summary", list(result.summary)),
    ):
        base = outcomes.names(level, conditions=(outcomes.SHOCK,))
        assert returned[: len(base)] == list(base)  # the plain run's outcomes come first, as is
        added = returned[len(base) :]
        assert added, f"simulate_groups adds no {level} outcomes"
        groups = [o for o in outcomes.outcomes(level, conditions=(outcomes.GROUPS,)) if o.condition]
        for name in added:
            found = outcomes.lookup(name, level)
            assert found is not None and found.condition == outcomes.GROUPS, (level, name)
        for declared in groups:
            assert any(declared.matches(name) for name in added), (level, declared.name)
    keys = {name.split("_", 1)[0] for name in result.aggregate.columns if name.count("_")}
    assert {"designated", "other", "jepara", "cirebon"} <= keys
    assert list(result.clusters.columns) == list(outcomes.names("cluster"))


def test_every_outcome_has_a_unit_and_a_meaning() -> None:
    seen: set[tuple[str, str]] = set()
    for outcome in outcomes.OUTCOMES:
        assert outcome.level in outcomes.LEVELS, outcome
        assert outcome.unit.strip(), outcome
        assert outcome.meaning.strip(), outcome
        assert outcome.condition in outcomes.CONDITIONS, outcome
        assert (outcome.level, outcome.name) not in seen, outcome  # one entry per level and name
        seen.add((outcome.level, outcome.name))
        assert outcome.family == (outcome.condition == outcomes.GROUPS) or (
            outcome.name == "designated_count"
        ), outcome


def test_names_rejects_an_unknown_level() -> None:
    with pytest.raises(ValueError):
        outcomes.names("firm")


def test_cluster_table_made_on_first_read_is_the_history() -> None:
    """A run's per-cluster table is made when first read (a sweep never reads it): it is the
    model's history then, it stays the same object, and a pickled result carries it."""
    import pickle

    from sim.model.results import ClusterRecord

    model, result = _run("bottom_up", shocked=False)
    assert isinstance(result.__dict__["_clusters"], ClusterRecord)  # not made yet
    history = model.cluster_history()
    model.step()  # a later quarter does not reach the result
    assert result.clusters.equals(history)
    assert result.clusters is result.clusters
    assert pickle.loads(pickle.dumps(model.results())).clusters.equals(model.cluster_history())
