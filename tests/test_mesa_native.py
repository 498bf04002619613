"""Mesa's own tools drive the model: ``mesa.batch_run`` with replicates, a DataCollector declared
from the outcome registry, flat keyword arguments, a seed drawn only when none is given; and
Mesa's agent registry, which learns of firms when read, seen by its readers as if every agent
had been registered as it came.

Run on both supported Mesa versions (3.3 in .venv, 3.5 in .venv-3.12): batch_run changed how it
passes seeds between them (none at all on 3.3, ``seed=None`` on 3.5), and the registry's layout
changed (weak-keyed sets and a dict on 3.3, strong-keyed sets and signals on 3.5).
"""

from __future__ import annotations

import pickle
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model import ClusterModel
from sim.model.agents import Firm
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


# ---- Mesa's registry, brought up to date when read (sim.model.agent_registry) -----------------
def _registry(model: ClusterModel) -> tuple:
    """What a reader of Mesa's registry sees: every agent in order, per type, the types."""
    return (
        [(type(agent).__name__, agent.unique_id) for agent in model.agents],
        {
            kind.__name__: [a.unique_id for a in agents]
            for kind, agents in model.agents_by_type.items()
        },
        [kind.__name__ for kind in model.agent_types],
    )


def _expected_members(model: ClusterModel) -> set[int]:
    """The ids the registry must hold: live firms, governments, coordinators."""
    f = model.firms
    others = [model.central_government, *model.regional_governments, *model.coordinators.values()]
    return set(f.uid[: f.size].tolist()) | {agent.unique_id for agent in others}


@pytest.mark.parametrize("scenario", ["top_down", "demand_driven"])
def test_the_registry_read_late_is_the_registry_kept_up_to_date(scenario: str) -> None:
    """Firms enter and leave without touching Mesa's registry; a read brings it up to date. It
    must then hold exactly what registering every agent as it came would have given: the live
    firms, governments and coordinators (those registered meanwhile placed among the firms),
    in the same order, whenever it is read."""
    every, late = (ClusterModel(scenario=scenario, seed=5, **SMALL) for _ in range(2))
    seen = [_registry(every)]
    for step in range(1, 7):
        every.step()
        late.step()
        seen.append(_registry(every))
        assert set(uid for _, uid in seen[-1][0]) == _expected_members(every)
        if step == 3:
            assert late._agent_registry.late  # coordinators came while firms waited
            assert _registry(late) == seen[-1]  # one read mid-run
    assert _registry(late) == seen[-1]
    assert len(every.agents_by_type[Firm]) == every.firms.n_alive
    kinds = [kind for kind, _ in seen[-1][0]]
    assert kinds.count("ClusterCoordinator") == len(every.coordinators)
    # coordinators registered in policy quarters sit between firms, as Mesa registered them
    assert any(a == "ClusterCoordinator" and "Firm" in kinds[i:] for i, a in enumerate(kinds))


def test_a_run_that_never_reads_the_registry_makes_no_firm_agents() -> None:
    """The saving itself: entry and exit write the handle tables only; no Firm agent is made
    or registered until something asks for one."""
    model = ClusterModel(scenario="top_down", seed=2, **SMALL)
    for _ in range(3):
        model.step()
    assert model._firm_by_handle == {}
    assert len(model.agents_by_type[Firm].__dict__["_table"]) == 0  # the raw table, unread
    assert model.firms.n_alive > 0
    agent = model.firm_at(0)  # asked for: made once, the same object from then on
    assert model.firm_at(0) is agent and agent in model.agents
    assert model._firm_by_handle[agent.handle] is agent


def test_agent_sets_held_across_steps_stay_true() -> None:
    """``model.agents`` and ``agents_by_type[Firm]`` are the registry's own AgentSets: one
    held across steps sees entries and exits when read, and firm agents keep their identity."""
    model = ClusterModel(scenario="demand_driven", seed=8, **SMALL)
    everyone, firms = model.agents, model.agents_by_type[Firm]
    first = {agent.unique_id: agent for agent in firms}
    for _ in range(4):
        model.step()
    f = model.firms
    assert {agent.unique_id for agent in firms} == set(f.uid[: f.size].tolist())
    assert {agent.unique_id for agent in everyone} == _expected_members(model)
    assert len(everyone) == len(list(everyone))
    for agent in firms:
        assert model.firm_at(agent.slot) is agent
        if agent.unique_id in first:  # a firm that stayed keeps its agent
            assert first[agent.unique_id] is agent
    assert model.entries_step + model.exits_step > 0 or len(first) != len(firms)


def test_a_removed_firm_agent_stays_out_of_the_registry() -> None:
    """``agent.remove()`` deregisters a firm's agent as Mesa's does (the firm itself lives on
    in the arrays); later reads and steps do not bring it back."""
    model = ClusterModel(scenario="no_policy", seed=6, **SMALL)
    agent = model.firm_at(int(model.firms.size // 2))
    agent.remove()
    assert agent not in model.agents and agent not in model.agents_by_type[Firm]
    assert agent.unique_id not in {a.unique_id for a in model.agents}
    model.step()
    assert agent not in model.agents and agent not in model.agents_by_type[Firm]
    others = _expected_members(model) - {agent.unique_id}
    assert {a.unique_id for a in model.agents} == others


def test_remove_all_agents_empties_the_registry_and_only_new_agents_come_in() -> None:
    model = ClusterModel(scenario="top_down", seed=9, **SMALL)
    removed = list(model.agents)
    model.remove_all_agents()
    assert len(model.agents) == 0 and all(len(s) == 0 for s in model.agents_by_type.values())
    model.step()
    assert not {id(agent) for agent in model.agents} & {id(agent) for agent in removed}
    f = model.firms
    live = set(f.uid[: f.size].tolist())
    assert all(a.unique_id in live for a in model.agents_by_type[Firm])


def test_a_datacollector_with_agent_reporters_sees_the_live_agents_each_step() -> None:
    """Mesa's DataCollector reads ``model.agents`` (agent reporters) and ``agents_by_type``
    (agent-type reporters): every collection sees exactly the live agents, with true values."""
    model = ClusterModel(scenario="top_down", seed=4, **SMALL)
    collector = mesa.DataCollector(
        agent_reporters={"kind": lambda agent: type(agent).__name__},
        agenttype_reporters={Firm: {"productivity": "productivity"}},
    )
    truth = {}
    for _ in range(3):
        model.step()
        collector.collect(model)
        f = model.firms
        truth[model.steps] = (
            _expected_members(model),
            dict(zip(f.uid[: f.size].tolist(), f.productivity[: f.size].tolist(), strict=True)),
        )
    agents = collector.get_agent_vars_dataframe().reset_index()
    firms = collector.get_agenttype_vars_dataframe(Firm).reset_index()
    for step, (members, productivity) in truth.items():
        assert set(agents.loc[agents["Step"] == step, "AgentID"]) == members
        rows = firms[firms["Step"] == step]
        assert dict(zip(rows["AgentID"], rows["productivity"], strict=True)) == productivity


def test_a_pickled_model_keeps_its_registry() -> None:
    model = ClusterModel(scenario="top_down", seed=3, **SMALL)
    model.step()
    before = _registry(model)
    model.step()
    copy = pickle.loads(pickle.dumps(model))
    assert _registry(copy) == _registry(model) != before
    assert copy.firm_at(0).unique_id == model.firm_at(0).unique_id


def test_firm_agents_are_not_made_by_hand() -> None:
    """A Firm agent views a row of the firm arrays; one made outside the entry rule would have
    no row, so Mesa's constructor path is closed with a clear message."""
    model = ClusterModel(scenario="no_policy", seed=1, **SMALL)
    with pytest.raises(TypeError, match="firm_at"):
        Firm(model)


def test_mesa_signals_of_agents_coming_and_going_account_for_the_registry() -> None:
    """Mesa 3.5 signals every agent it registers or deregisters; an observer sees firms come
    and go in the quarter they do, exactly the registry's changes, and nothing for what came
    before it subscribed."""
    signals = pytest.importorskip("mesa.experimental.mesa_signals")
    if not hasattr(signals, "ModelSignals"):
        pytest.skip("this Mesa (before 3.5) signals no agents")
    model = ClusterModel(scenario="top_down", seed=7, **SMALL)
    heard: list[tuple[str, mesa.Agent]] = []

    def hear(signal) -> None:
        heard.append((str(signal.signal_type), signal.additional_kwargs["args"][0]))

    for kind in (signals.ModelSignals.AGENT_ADDED, signals.ModelSignals.AGENT_REMOVED):
        model.observe("agents", kind, hear)
    before = set(model.agents)
    for _ in range(4):
        heard.clear()
        model.step()
        added = {agent for kind, agent in heard if kind == "agent_added"}
        removed = {agent for kind, agent in heard if kind == "agent_removed"}
        assert set(model.agents) == (before - removed) | added
        firms_added = [agent for agent in added if isinstance(agent, Firm)]
        assert len(firms_added) <= model.entries_step  # entrants only, not earlier firms
        before = set(model.agents)
    assert any(isinstance(agent, Firm) for _, agent in heard) or model.entries_step == 0
