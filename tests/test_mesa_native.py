"""Mesa's own tools drive the model: ``mesa.batch_run`` with replicates, a DataCollector declared
from the outcome registry, flat keyword arguments, a seed drawn only when none is given.

Run on both supported Mesa versions (3.3 in .venv, 3.5 in .venv-3.12): batch_run changed how it
passes seeds between them (none at all on 3.3, ``seed=None`` on 3.5).
"""

from __future__ import annotations

import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model import ClusterModel
from sim.model.outcomes import names
from sim.scenario.errors import InputError

SMALL = {"n_clusters": 8, "burn_in": 2}  # flat keywords, as a Mesa user writes them


def _batch(**kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Mesa 3.5 prefers rng= to iterations=
        return pd.DataFrame(mesa.batch_run(ClusterModel, display_progress=False, **kwargs))


def test_batch_run_replicates_are_distinct_runs_with_their_seeds_recorded() -> None:
    rows = _batch(
        parameters={"scenario": "top_down", "planning_quality": [0.2, 0.9], **SMALL},
        iterations=2,
        max_steps=2,
    )
    assert len(rows) == 4
    assert set(rows["planning_quality"]) == {0.2, 0.9}
    for _, point in rows.groupby("planning_quality"):
        assert point["seed"].nunique() == 2  # each replicate drew its own seed
        assert point["value_added"].nunique() == 2  # ... and so is a different run
    # a recorded seed reproduces its row
    first = rows.iloc[0]
    again = ClusterModel(
        scenario="top_down", seed=int(first["seed"]), planning_quality=0.2, **SMALL
    )
    while again.steps < int(first["Step"]):
        again.step()
    assert again.latest["value_added"] == first["value_added"]


def test_batch_run_every_step_matches_the_models_history() -> None:
    rows = _batch(
        parameters={"scenario": "bottom_up", **SMALL},
        iterations=1,
        max_steps=3,
        data_collection_period=1,
    )
    assert rows["seed"].nunique() == 1 and len(rows) >= 3
    model = ClusterModel(scenario="bottom_up", seed=int(rows["seed"].iloc[0]), **SMALL)
    for _ in range(3):
        model.step()
    history = model.history()
    columns = list(names("aggregate", identifiers=False))
    for _, row in rows.iterrows():
        expected = history.loc[int(row["Step"]), columns].to_numpy(dtype=float)
        assert np.array_equal(row[columns].to_numpy(dtype=float), expected, equal_nan=True)


def test_datacollector_is_declared_from_the_registry_and_agrees_with_history() -> None:
    model = ClusterModel(scenario="demand_driven", seed=3, **SMALL)
    model.step()
    collector = model.datacollector
    assert isinstance(collector, mesa.DataCollector)
    assert list(collector.model_reporters) == ["seed", *names("aggregate", identifiers=False)]
    model.step()  # the collector catches up with steps taken after it was first read
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 3  # policy start and two quarters
    assert (frame["seed"] == 3).all()
    history = model.history()
    for name in names("aggregate", identifiers=False):
        assert np.array_equal(
            frame[name].to_numpy(float), history[name].to_numpy(float), equal_nan=True
        ), name
    model.datacollector.collect(model)  # Mesa's idiom adds no duplicate row
    assert len(model.datacollector.get_model_vars_dataframe()) == 3


def test_an_explicit_seed_reproduces_and_a_missing_one_is_drawn_and_kept() -> None:
    a = ClusterModel(scenario="top_down", seed=11, **SMALL)
    b = ClusterModel(scenario="top_down", seed=11, **SMALL)
    a.step()
    b.step()
    assert a.seed == b.seed == 11
    pd.testing.assert_frame_equal(a.history(), b.history())
    drawn = [ClusterModel(scenario="no_policy", **SMALL).seed for _ in range(2)]
    assert drawn[0] != drawn[1]
    assert all(0 <= seed < 2**63 for seed in drawn)
    replay = ClusterModel(scenario="no_policy", seed=drawn[0], **SMALL)
    assert replay.seed == drawn[0]


def test_flat_keywords_reach_scenario_keys() -> None:
    model = ClusterModel(
        scenario="top_down", seed=1, planning_quality=0.9, n_designated=5, volatility=0.1, **SMALL
    )
    assert model.config.policy.planning_quality == 0.9
    assert model.config.policy.selected_clusters == 5
    assert model.config.market.volatility == 0.1
    nested = ClusterModel(scenario="top_down", seed=1, policy__monitoring=0.7, **SMALL)
    assert nested.config.policy.monitoring == 0.7


def test_unknown_or_invalid_keywords_are_rejected_clearly() -> None:
    with pytest.raises(InputError, match=r"planing_quality: not a scenario parameter.*planning_"):
        ClusterModel(scenario="top_down", planing_quality=0.9)
    with pytest.raises(InputError, match=r"policy\.planning_quality: expected a value <= 1"):
        ClusterModel(scenario="top_down", planning_quality=1.5)


def test_firm_agents_made_after_burn_in_carry_the_ids_firms_were_numbered_with() -> None:
    """Firms get their ids at build and entry but their agents only when burn-in ends: then
    every live firm has one registered agent with its id, no two agents share an id, and the
    next agent Mesa makes gets an id above all of them."""
    from sim.model.agents import ClusterCoordinator, Firm

    model = ClusterModel(scenario="bottom_up", seed=4, overrides={"world.scale": 0.3})
    f = model.firms
    firms = list(model.agents_by_type[Firm])
    assert sorted(agent.unique_id for agent in firms) == sorted(f.uid[: f.size].tolist())
    assert all(model.firm_at(agent.slot) is agent for agent in firms)
    ids = [agent.unique_id for agent in model.agents]
    assert len(ids) == len(set(ids))
    assert int(f.uid.max()) > len(firms)  # entrants of burn-in were numbered too
    newcomer = ClusterCoordinator(model, 0, 1)
    assert newcomer.unique_id > max(ids)
