"""Mesa's registry of a model's agents, with the firms brought up to date when it is read.

Thousands of firms enter and leave a quarter in a national world. Keeping each one's agent in
Mesa's registry (a dict and two AgentSets) as it happened cost ~1.7 us per exit (cold dict
entries and weak references), a fifth of the step at 93k firms, for a registry that a sweep, a
calibration or a benchmark never reads. Which firms are live is already in the model's tables
(handles and ids), so the registry is brought up to date only when something reads it: the
model's AgentSets of all agents and of firms check before every read (``model.agents``,
``model.agents_by_type[Firm]``, a DataCollector, an AgentSet held across steps), add the firms
that entered since and drop those that left, in the order Mesa's one-at-a-time registration
would have given.

Read the registry between steps (the browser view reads the model under its lock): a read
racing a step was never safe in Mesa (its dicts change size) and could here also leave the
registry behind the tables.
"""

from __future__ import annotations

import functools
import itertools
import weakref
from typing import TYPE_CHECKING

import mesa
import numpy as np

try:  # Mesa >= 3.5 signals agents coming and going
    from mesa.experimental.mesa_signals import ModelSignals
except ImportError:  # Mesa 3.3: nothing observes agents
    ModelSignals = None

if TYPE_CHECKING:
    from sim.model import ClusterModel
    from sim.model.agents import Firm


def _add_weakly(table: weakref.WeakKeyDictionary, agents: list) -> None:
    """``table.update(dict.fromkeys(agents))``, with the weak references made in C rather than
    one Python step per agent (same keys, callbacks and order)."""
    keys = map(weakref.ref, agents, itertools.repeat(table._remove))
    table.data.update(zip(keys, itertools.repeat(None)))


def _placed(entered: list, live: np.ndarray, late: list[tuple], table) -> list:
    """``entered`` (firms, their handles ``live``) with the ``late`` agents (agent, number of
    firm handles when it was registered) that are in ``table`` taken out of it and put back
    among them: after the firms registered before them, as Mesa would have them."""
    present = [(agent, count) for agent, count in late if table.pop(agent, False) is None]
    places = np.searchsorted(live, [count for _, count in present]).tolist()
    merged, start = [], 0
    for (agent, _), place in zip(present, places, strict=True):
        merged += entered[start:place]
        merged.append(agent)
        start = place
    return merged + entered[start:]


class _SyncedOnRead:
    """Mixin for the AgentSets of a model's registry that hold firms: every read of the set's
    table (all that Mesa's AgentSet methods do goes through ``self._agents``) first brings the
    registry up to date. A set made without a registry (Mesa copies sets with ``type(self)``)
    is a plain AgentSet."""

    @property
    def _agents(self):
        registry = self.__dict__.get("_registry")
        if registry is not None and registry.behind and not registry.raw:
            registry.sync()
        return self.__dict__["_table"]

    @_agents.setter
    def _agents(self, table) -> None:
        self.__dict__["_table"] = table

    def __reduce__(self) -> tuple:
        # the class is made at run time for this Mesa's AgentSet class: pickle names that one
        return _unpickled, (self._mesa_set,), self.__getstate__()

    def __getstate__(self) -> dict:
        state = super().__getstate__()  # Mesa 3.3: agents and random; 3.5: the __dict__
        return {**state, "_registry": self.__dict__.get("_registry")}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        self.__dict__["_registry"] = state.pop("_registry", None)
        restore = getattr(super(), "__setstate__", None)
        if restore is not None:
            restore(state)
        else:
            self.__dict__.update(state)


@functools.cache
def _synced_class(base: type) -> type:
    """``base`` (the AgentSet class this Mesa keeps its registry in) synced on read."""
    return type(f"Synced{base.__name__}", (_SyncedOnRead, base), {"_mesa_set": base})


def _unpickled(base: type):
    synced = _synced_class(base)
    return synced.__new__(synced)


class AgentRegistry:
    """Keeps Mesa's registry of one model true when read, firms included.

    ``registered``: firm handles below it have been through registration (handles rise with
    entry, so handle order is the order Mesa registered them in). ``exited``: registered firms'
    agents that left since. ``late``: other agents (coordinators) registered while firms were
    waiting, with the number of firm handles then: in Mesa's order they come after the firms of
    lower handles, which were registered before them.
    """

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.registered = 0
        self.exited: list[Firm] = []
        self.late: dict[mesa.Agent, int] = {}
        self.raw = False  # Mesa's register_agent/deregister_agent are writing: no sync now
        self.firm_type: type | None = None
        self.firms = None  # the firms' AgentSet, made with the first firm agent
        self._base = type(model._all_agents)  # the AgentSet class this Mesa registers in
        model._all_agents = self.all_agents = self._synced_set()

    def _synced_set(self):
        synced = _synced_class(self._base)
        agent_set = synced.__new__(synced)
        agent_set.__dict__["_registry"] = self
        agent_set.__init__([], random=self.model.random)
        return agent_set

    def add_firm_type(self, firm_type: type) -> None:
        """Give firms their AgentSet where Mesa would make it: with the first firm agent."""
        self.firm_type = firm_type
        self.firms = self.model._agents_by_type[firm_type] = self._synced_set()

    @property
    def behind(self) -> bool:
        return self.model._handle_count > self.registered or bool(self.exited)

    def registering(self, agent: mesa.Agent) -> None:
        """Before Mesa registers an agent: a firm's comes after a sync; another agent's, while
        firms wait, is put among them at the next sync."""
        if self.firm_type is not None and isinstance(agent, self.firm_type):
            self.sync()
        elif self.model._handle_count > self.registered:
            self.late[agent] = self.model._handle_count

    def deregistering(self, agent: mesa.Agent) -> None:
        """Before Mesa deregisters an agent: a firm's must be in the tables to leave them."""
        self.late.pop(agent, None)
        if self.firm_type is not None and isinstance(agent, self.firm_type):
            self.sync()

    def left(self, agents: list[Firm]) -> None:
        """Firms whose agents were made have left: the registered ones leave the tables at
        the next sync."""
        registered = self.registered
        self.exited.extend(agent for agent in agents if agent.handle < registered)

    def sync(self, signal: bool = False) -> None:
        """Bring the tables up to date: drop the firms that left, add the live firms that
        entered since (their agents made now if nobody asked for them), placing the other
        agents registered meanwhile where Mesa would have had them.

        ``signal``: emit Mesa's agent-added and agent-removed signals for the firms that came
        and went, as registering and deregistering them would have (``observed``)."""
        if not self.behind or self.raw:
            return
        model = self.model
        everyone = self.all_agents.__dict__["_table"]
        firms = self.firms.__dict__["_table"]
        hard = model.__dict__.get("_agents")  # Mesa 3.3 holds agents strongly here
        weak = isinstance(everyone, weakref.WeakKeyDictionary)
        left = self._drop(self.exited, everyone, firms, hard, weak)
        self.exited = []
        handles = np.arange(self.registered, model._handle_count)
        live = handles[model._handle_by_uid[model._uid_of_handle[handles]] == handles]
        entered = [model._firm_agent(handle) for handle in live.tolist()]
        self.registered = model._handle_count
        late, self.late = list(self.late.items()), {}
        if hard is not None:
            hard.update(dict.fromkeys(_placed(entered, live, late, hard)))
        if weak:
            _add_weakly(everyone, _placed(entered, live, late, everyone))
            _add_weakly(firms, entered)
        else:
            everyone.update(dict.fromkeys(_placed(entered, live, late, everyone)))
            firms.update(dict.fromkeys(entered))
        if signal:
            for agent in entered:
                model.notify("agents", ModelSignals.AGENT_ADDED, args=(agent,))
            for agent in left:
                model.notify("agents", ModelSignals.AGENT_REMOVED, args=(agent,))

    def observed(self) -> bool:
        """Whether something observes agents coming and going (Mesa 3.5's signals, which
        ``register_agent`` and ``deregister_agent`` emit): then the model brings the registry
        up to date as firms enter and leave, with their signals."""
        subscribers = getattr(self.model, "subscribers", None)
        return bool(subscribers) and any(
            name == "agents" and refs for (name, _), refs in subscribers.items()
        )

    @staticmethod
    def _drop(agents: list, everyone, firms, hard, weak: bool) -> list:
        """Take firms' agents out of the tables; returns those that were registered."""
        left = []
        if not weak:
            for agent in agents:
                if everyone.pop(agent, False) is None:
                    left.append(agent)
                firms.pop(agent, None)
            return left
        # Mesa 3.3: the AgentSets are WeakKeyDictionaries; their ``data`` dicts are keyed by
        # weak references, and popping there skips a Python-level method per agent. Any live
        # weak reference to the agent finds its entry (equal referents, equal hashes); one that
        # already exists (an AgentSet's own key) costs a quarter of making a new one.
        everyone, firms = everyone.data, firms.data
        for agent in agents:
            if hard.pop(agent, False) is None:  # registered (value None), now removed
                existing = weakref.getweakrefs(agent)
                key = existing[0] if existing else weakref.ref(agent)
                firms.pop(key, None)
                everyone.pop(key, None)
                left.append(agent)
        return left
