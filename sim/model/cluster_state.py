"""Per-cluster arrays (a cluster is a collective, not an agent) and per-region arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClusterState:
    """Struct of arrays over clusters. Index = cluster id."""

    name: list[str]
    product: np.ndarray  # int
    region: np.ndarray  # int
    tradition: np.ndarray  # 0..1, visible to government
    initial_size: np.ndarray  # firms at start
    forced_designation: np.ndarray  # bool, named clusters the historical programme designated
    # coordination
    coordinator: np.ndarray = field(init=False)  # NO_COORDINATOR / EMERGENT / APPOINTED
    legitimacy: np.ndarray = field(init=False)
    joint_action: np.ndarray = field(init=False)
    mobilisation: np.ndarray = field(init=False)  # memory of recent sales swings (crisis/boom)
    needs_met: np.ndarray = field(init=False)  # share 0-1 of members' needs support met
    members: np.ndarray = field(init=False)
    # policy
    selected: np.ndarray = field(init=False)  # bool, in the planner's list now
    ever_selected: np.ndarray = field(init=False)
    weight: np.ndarray = field(init=False)  # allocation weight, moved by monitoring
    support_step: np.ndarray = field(init=False)
    support_total: np.ndarray = field(init=False)
    support_since_plan: np.ndarray = field(init=False)
    last_mix: np.ndarray = field(init=False)  # instrument shares of the last allocation
    # history used by coordination, monitoring and typology
    sales: np.ndarray = field(init=False)
    sales_previous: np.ndarray = field(init=False)
    # a cluster's own buyer network: its quarterly growth (a trend), and exp of it
    niche_growth: np.ndarray = field(init=False)
    niche_factor: np.ndarray = field(init=False)
    va_per_worker_at_plan: np.ndarray = field(init=False)
    va_history: np.ndarray = field(init=False)  # rolling 4 quarters, for typology
    cluster_type: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.product)
        self.coordinator = np.zeros(n, dtype=np.int8)
        self.legitimacy = np.zeros(n)
        self.joint_action = np.zeros(n)
        self.mobilisation = np.zeros(n)
        self.needs_met = np.zeros(n)
        self.members = np.zeros(n)
        self.selected = np.zeros(n, dtype=bool)
        self.ever_selected = np.zeros(n, dtype=bool)
        self.weight = np.ones(n)
        self.support_step = np.zeros(n)
        self.support_total = np.zeros(n)
        self.support_since_plan = np.zeros(n)
        self.last_mix = np.zeros((n, 4))
        self.sales = np.zeros(n)
        self.sales_previous = np.zeros(n)
        self.niche_growth = np.zeros(n)
        self.niche_factor = np.ones(n)
        self.va_per_worker_at_plan = np.full(n, np.nan)
        self.va_history = np.zeros((4, n))
        self.cluster_type = np.zeros(n, dtype=np.int8)

    @property
    def count(self) -> int:
        return len(self.product)


@dataclass
class RegionState:
    capacity: np.ndarray  # 0..1: coaching, monitoring and administrative capacity
