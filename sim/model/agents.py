"""Mesa agents. Their numeric state lives in the model's arrays; each agent is a live view on its
row, so ``firm.productivity`` always reads true while the step runs whole-array."""

from __future__ import annotations

import collections
import itertools
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.government import govern
from sim.scenario.codes import CLUSTER_TYPES, EMERGENT, SEGMENTS, STAGES

if TYPE_CHECKING:
    from sim.model import ClusterModel


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

    A firm's agent is made when first asked for (``model.firm_at``, or a read of Mesa's
    registry: ``model.agents``, ``model.agents_by_type``), then kept: the same object for as
    long as the firm lives. ``model.agents`` holds exactly the live firms whenever it is read
    (``sim.model.agent_registry``), but not in order of entry.

    The agent of a firm that exits is handed to an entrant of the same quarter, with a new
    ``unique_id`` (``model._register_firms``): hold a firm's ``unique_id``, not the object,
    across steps.
    An agent's ``unique_id`` is kept in the model's table under the agent's permanent
    ``handle``, not in the object: handing thousands of agents to entrants a quarter then
    rewrites two arrays and touches no object (cold memory was what it cost).
    """

    __slots__ = ("handle", "model", "pos")
    model: ClusterModel

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError(
            "a Firm agent views a row of model.firms: firms enter through the model's entry "
            "rule, and model.firm_at(slot) gives a live firm's agent"
        )

    @classmethod
    def view(cls, model: ClusterModel, handle: int) -> Firm:
        """The agent of the firm under ``handle``, made without ``Agent.__init__``: firms are
        numbered and registered by the model (``issue_ids``, ``sim.model.agent_registry``)."""
        agent = cls.__new__(cls)
        agent.model = model
        agent.handle = handle
        agent.pos = None
        return agent

    @property
    def unique_id(self) -> int:
        return int(self.model._uid_of_handle[self.handle])

    @unique_id.setter
    def unique_id(self, value: int | None) -> None:
        if value is not None:  # (Mesa 3.5's register_agent numbers an agent it registers)
            self.model._give_unique_id(self, int(value))

    @property
    def slot(self) -> int:
        """This firm's row in ``model.firms`` now (rows move when exits are compacted)."""
        return self.model.slot_of(self.unique_id)

    @staticmethod
    def issue_ids(model: ClusterModel, count: int) -> np.ndarray:
        """The next ``count`` agent ids, taken as new agents would take them (Mesa numbers
        firms' and other agents' in one sequence)."""
        return _issue_unique_ids(model, count)

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
