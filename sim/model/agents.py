"""Mesa agents. Their numeric state lives in the model's arrays; each agent is a live view on its
row, so ``firm.productivity`` always reads true while the step runs whole-array."""

from __future__ import annotations

import collections
import itertools
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.government import govern
from sim.scenario.codes import CLUSTER_TYPES, EMERGENT, SEGMENTS, STAGES

if TYPE_CHECKING:
    from sim.model import ClusterModel


# The batch registration below uses Mesa 3.3's private registry layout; other Mesa versions
# (3.5 keeps agents differently) take the public one-agent-at-a-time path, same ids, same order.
_MESA_REGISTRY_KNOWN = hasattr(mesa.Agent, "_ids") and mesa.__version__.startswith("3.3")


def _issue_unique_ids(model: mesa.Model, count: int) -> np.ndarray:
    """The next ``count`` ids Mesa would give new agents of this model (Mesa 3.5 counts on the
    model, 3.3 in a per-model counter on ``Agent``): recycled and new agents share one sequence."""
    first = getattr(model, "agent_id_counter", None)
    if first is not None:
        model.agent_id_counter = first + count
    elif count:
        ids = mesa.Agent._ids[model]  # an itertools.count: consume ``count`` of it at C speed
        first = next(ids)
        collections.deque(itertools.islice(ids, count - 1), maxlen=0)
    else:
        first = 0
    return np.arange(first, first + count, dtype=np.int64)


def _add_weakly(table: weakref.WeakKeyDictionary, agents: list) -> None:
    """``table.update(dict.fromkeys(agents))``, with the weak references made in C rather than
    one Python step per agent (same keys, callbacks and order)."""
    keys = map(weakref.ref, agents, itertools.repeat(table._remove))
    table.data.update(zip(keys, itertools.repeat(None)))


def grown(table: np.ndarray, index: int) -> np.ndarray:
    """``table`` (indexed by id or handle, -1 for none), grown by doubling so ``index`` fits."""
    if index < len(table):
        return table
    bigger = np.full(max(2 * len(table), index + 1), -1, dtype=table.dtype)
    bigger[: len(table)] = table
    return bigger


def _column_view(column: str, cast: type, doc: str) -> property:
    def getter(self: Firm):
        return cast(getattr(self.model.firms, column)[self.slot])

    def setter(self: Firm, value) -> None:
        getattr(self.model.firms, column)[self.slot] = value

    return property(getter, setter, doc=doc)


class Firm(mesa.Agent):
    """An independent SME. Decides alone; the model applies its rules to all firms at once.

    The object of a firm that exits is handed to an entrant of the same quarter, with a new
    ``unique_id`` (``recycle``): hold a firm's ``unique_id``, not the object, across steps.
    ``model.agents`` always holds exactly the live firms, but not in order of entry.

    An agent's ``unique_id`` is kept in the model's table under the agent's permanent
    ``handle``, not in the object: handing thousands of objects to entrants a quarter then
    rewrites two arrays and touches no object (cold memory was what it cost).
    """

    __slots__ = ("handle", "model", "pos")
    model: ClusterModel

    @property
    def unique_id(self) -> int:
        return int(self.model._uid_of_handle[self.handle])

    @unique_id.setter
    def unique_id(self, value: int | None) -> None:
        if value is not None:  # (Mesa 3.5's Agent.__init__ clears it before registering)
            self.model._give_unique_id(self, int(value))

    @property
    def slot(self) -> int:
        """This firm's row in ``model.firms`` now (rows move when exits are compacted)."""
        return self.model.slot_of(self.unique_id)

    @staticmethod
    def issue_ids(model: ClusterModel, count: int) -> np.ndarray:
        """The next ``count`` agent ids, taken as new agents would take them (for firms whose
        agents are made later with these ids: ``create_many``)."""
        return _issue_unique_ids(model, count)

    @classmethod
    def create_many(
        cls, model: ClusterModel, count: int, uids: np.ndarray | None = None
    ) -> list[Firm]:
        """``count`` new Firm agents, registered with the model as ``Agent.__init__`` registers
        one (same ids, same order in ``model.agents``).

        ``uids``: ids given to these firms before (``issue_ids``); without them each agent
        takes the next id.

        Entry brings thousands of firms a quarter in a national world; one Python call per
        agent through Mesa's registration (and its debug-log formatting) was a tenth of the step.
        """
        if not count:
            return []
        if not _MESA_REGISTRY_KNOWN:
            if uids is None:
                return [cls(model) for _ in range(count)]
            # Mesa numbers each agent it registers: take those numbers back, give the given ids
            first = model.agent_id_counter
            agents = [cls(model) for _ in range(count)]
            model.agent_id_counter = first
            for agent, uid in zip(agents, uids.tolist(), strict=True):
                agent.unique_id = uid
            return agents
        first_handle = len(model._firm_by_handle)
        agents: list[Firm] = []
        for handle in range(first_handle, first_handle + count):
            agent = cls.__new__(cls)
            agent.model = model
            agent.handle = handle
            agent.pos = None
            agents.append(agent)
        model._add_firm_handles(agents, _issue_unique_ids(model, count) if uids is None else uids)
        by_type = model._agents_by_type.get(cls)
        if by_type is None:  # first agent of the type: let Mesa create its AgentSet
            model.register_agent(agents[0])
            rest = agents[1:]
            by_type = model._agents_by_type[cls]
        else:
            rest = agents
        model._agents.update(dict.fromkeys(rest))
        for agent_set in (by_type, model._all_agents):
            _add_weakly(agent_set._agents, rest)
        return agents

    @staticmethod
    def recycle(model: ClusterModel, old_uids: np.ndarray) -> np.ndarray:
        """Hand the agents of firms that exited (still registered) to entrants: each gets the
        next unique id, as a new agent would; returns the ids.

        Thousands of firms enter and leave a quarter in a national world; creating and
        removing as many Python objects (each with weak references in Mesa's AgentSets) made
        CPython's cyclic garbage collector rescan every live agent again and again, a quarter
        of the step. Ids live in the model's handle tables, so this touches no object.
        """
        new_uids = _issue_unique_ids(model, len(old_uids))
        if len(new_uids):
            handles = model._handle_by_uid[old_uids]
            model._handle_by_uid[old_uids] = -1
            model._handle_by_uid = grown(model._handle_by_uid, int(new_uids[-1]))
            model._handle_by_uid[new_uids] = handles
            model._uid_of_handle[handles] = new_uids
        return new_uids

    @staticmethod
    def remove_many(model: ClusterModel, agents: Sequence[Firm]) -> None:
        """Deregister many firms at once, as ``Agent.remove`` does one."""
        if not _MESA_REGISTRY_KNOWN:
            for agent in agents:
                agent.remove()
            return
        registry, by_type = model._agents, model._agents_by_type
        # the AgentSets are WeakKeyDictionaries; their ``data`` dicts are keyed by weak
        # references, and popping there skips a Python-level method per agent. Any live weak
        # reference to the agent finds its entry (equal referents, equal hashes); one that
        # already exists (an AgentSet's own key) costs a quarter of making a new one.
        everyone = model._all_agents._agents.data
        for agent in agents:
            if registry.pop(agent, False) is None:  # registered (value None), now removed
                existing = weakref.getweakrefs(agent)
                key = existing[0] if existing else weakref.ref(agent)
                by_type[type(agent)]._agents.data.pop(key, None)
                everyone.pop(key, None)

    cluster = _column_view("cluster", int, "Cluster index.")
    workers = _column_view("workers", float, "Workers (most firms < 20).")
    productivity = _column_view("productivity", float, "Output units per worker per quarter.")
    quality = _column_view("quality", float, "Product quality, 0..1.")
    cash = _column_view("cash", float, "Cash in wage units.")
    knowledge = _column_view("knowledge", float, "Skill at sensing demand, 0..1.")
    absorptive = _column_view("absorptive", float, "Absorptive capacity, 0..1.")
    member = _column_view("member", bool, "Member of the cluster association.")
    sales = _column_view("sales", float, "Sales value last quarter.")
    value_added = _column_view("value_added", float, "Value added last quarter.")
    age = _column_view("age", int, "Quarters since entry.")

    @property
    def stage(self) -> str:
        return STAGES[int(self.model.firms.stage[self.slot])]

    @property
    def segment(self) -> str:
        return SEGMENTS[int(self.model.firms.segment[self.slot])]

    @property
    def supplier(self) -> Firm | None:
        """The local upstream supplier, if this producer has one."""
        return self.model.firm_at(int(self.model.firms.supplier[self.slot]))

    @property
    def trader(self) -> Firm | None:
        """The local finisher-trader this producer sells through, if any."""
        return self.model.firm_at(int(self.model.firms.trader[self.slot]))

    @property
    def partners(self) -> list[Firm]:
        """Horizontal cooperation partners."""
        a, b = self.model.ties.pairs()
        others = list(b[a == self.slot]) + list(a[b == self.slot])
        return [self.model.firm_at(int(s)) for s in others]


class ClusterCoordinator(mesa.Agent):
    """A cluster's coordinator: emergent (formed by members) or appointed (installed by government).

    Brokers vertical ties, organises joint action and relays members' needs; the vectorised
    rules live in ``sim.model.coordination`` and act on every coordinator at once.
    """

    model: ClusterModel

    def __init__(self, model: ClusterModel, cluster: int, kind: int) -> None:
        super().__init__(model)
        self.cluster = int(cluster)
        self.kind = "emergent" if kind == EMERGENT else "appointed"

    @property
    def legitimacy(self) -> float:
        return float(self.model.clusters.legitimacy[self.cluster])

    @property
    def joint_action(self) -> float:
        return float(self.model.clusters.joint_action[self.cluster])

    @property
    def members(self) -> int:
        return int(self.model.clusters.members[self.cluster])


class RegionalGovernment(mesa.Agent):
    """A province or district: delivers programmes; its capacity sets leakage and monitoring."""

    model: ClusterModel

    def __init__(self, model: ClusterModel, region: int) -> None:
        super().__init__(model)
        self.region = int(region)

    @property
    def capacity(self) -> float:
        return float(self.model.regions.capacity[self.region])

    @property
    def delivered_total(self) -> float:
        clusters = self.model.clusters
        return float(clusters.support_total[clusters.region == self.region].sum())


class CentralGovernment(mesa.Agent):
    """The ministry: budget, regime and planning cycle. Plans, allocates, monitors, reallocates."""

    model: ClusterModel

    def step(self) -> None:
        govern(self.model)

    @property
    def selected_clusters(self) -> list[str]:
        clusters = self.model.clusters
        return [clusters.name[i] for i in range(clusters.count) if clusters.selected[i]]


__all__ = ["Firm", "ClusterCoordinator", "RegionalGovernment", "CentralGovernment", "CLUSTER_TYPES"]
