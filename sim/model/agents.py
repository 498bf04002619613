"""Mesa agents. Their numeric state lives in the model's arrays; each agent is a live view on its
row, so ``firm.productivity`` always reads true while the step runs whole-array."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mesa

from sim.model.government import govern
from sim.scenario.codes import CLUSTER_TYPES, EMERGENT, SEGMENTS, STAGES

if TYPE_CHECKING:
    from sim.model import ClusterModel


# The batch registration below uses Mesa 3.3's private registry layout; other Mesa versions
# (3.5 keeps agents differently) take the public one-agent-at-a-time path, same ids, same order.
_MESA_REGISTRY_KNOWN = hasattr(mesa.Agent, "_ids") and mesa.__version__.startswith("3.3")


def _issue_unique_ids(model: mesa.Model, count: int) -> list[int]:
    """The next ``count`` ids Mesa would give new agents of this model (Mesa 3.5 counts on the
    model, 3.3 in a per-model counter on ``Agent``): recycled and new agents share one sequence."""
    first = getattr(model, "agent_id_counter", None)
    if first is not None:
        model.agent_id_counter = first + count
        return list(range(first, first + count))
    ids = mesa.Agent._ids[model]
    return [next(ids) for _ in range(count)]


def make_room(by_uid: list, uid: int) -> None:
    """Grow a table indexed by unique id (doubling) so that ``uid`` fits."""
    if uid >= len(by_uid):
        by_uid.extend([None] * max(len(by_uid), uid + 1 - len(by_uid)))


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
    """

    # stored in the object itself, not in its __dict__: one memory access fewer when an entrant
    # takes over an exited firm's object (cold memory is what exit and entry cost)
    __slots__ = ("unique_id", "model", "pos")
    model: ClusterModel

    @property
    def slot(self) -> int:
        """This firm's row in ``model.firms`` now (rows move when exits are compacted)."""
        return self.model.slot_of(self.unique_id)

    @classmethod
    def create_many(cls, model: ClusterModel, count: int) -> list[Firm]:
        """``count`` new Firm agents, registered with the model as ``Agent.__init__`` registers
        one (same ids, same order in ``model.agents``).

        Entry brings thousands of firms a quarter in a national world; one Python call per
        agent through Mesa's registration (and its debug-log formatting) was a tenth of the step.
        """
        if not count:
            return []
        if not _MESA_REGISTRY_KNOWN:
            return [cls(model) for _ in range(count)]
        ids = mesa.Agent._ids[model]
        agents: list[Firm] = []
        for _ in range(count):
            agent = cls.__new__(cls)
            agent.model = model
            agent.unique_id = next(ids)
            agent.pos = None
            agents.append(agent)
        by_type = model._agents_by_type.get(cls)
        if by_type is None:  # first agent of the type: let Mesa create its AgentSet
            model.register_agent(agents[0])
            rest = agents[1:]
            by_type = model._agents_by_type[cls]
        else:
            rest = agents
        fresh = dict.fromkeys(rest)
        model._agents.update(fresh)
        by_type._agents.update(fresh)
        model._all_agents._agents.update(fresh)
        return agents

    @staticmethod
    def recycle(model: ClusterModel, by_uid: list[Firm | None], old_uids: list[int]) -> list[int]:
        """Hand the agents of firms that exited (still registered) to entrants: each gets the
        next unique id, as a new agent would, and moves to it in ``by_uid``; returns the ids.

        Thousands of firms enter and leave a quarter in a national world; creating and
        removing as many Python objects (each with weak references in Mesa's AgentSets) made
        CPython's cyclic garbage collector rescan every live agent again and again, a quarter
        of the step. One pass, each object touched once: on cold memory that is the cost.
        """
        new_uids = _issue_unique_ids(model, len(old_uids))
        if new_uids:
            make_room(by_uid, new_uids[-1])
        for old, new in zip(old_uids, new_uids, strict=True):
            agent = by_uid[old]
            by_uid[old] = None
            agent.unique_id = new
            by_uid[new] = agent
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
        # references, and popping there skips a Python-level method per agent
        everyone = model._all_agents._agents.data
        for agent in agents:
            if registry.pop(agent, False) is None:  # registered (value None), now removed
                key = weakref.ref(agent)
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
