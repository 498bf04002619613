"""ClusterModel: builds the world from a Scenario and runs one quarter per step.

Schedule of a quarter (docs/ODD.md, "Process overview"):
market -> government -> coordinators -> ties and learning -> production and market clearing ->
accounting, investment, workforce -> exit and entry -> typology and outcomes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model.agent_registry import AgentRegistry
from sim.model.agents import (
    CentralGovernment,
    ClusterCoordinator,
    Firm,
    RegionalGovernment,
    grown,
)
from sim.model.cluster_state import ClusterState, RegionState
from sim.model.coordination import update_coordination
from sim.model.firm_state import FirmState
from sim.model.firms import (
    account,
    entrants_per_cluster,
    exits,
    initialise_entrants,
    invest_and_adjust,
    learn,
    take_log_productivity,
    update_ties,
)
from sim.model.government import NO_BUDGET, BudgetLines, known_potential
from sim.model.kernels.firms import cluster_sum
from sim.model.kernels.ties import follow_compaction
from sim.model.market import Market
from sim.model.metrics import (
    AGGREGATE_COLUMNS,
    CLUSTER_COLUMNS,
    aggregate_outcomes,
    classify_clusters,
    cluster_outcomes,
    summarise,
)
from sim.model.outcomes import names
from sim.model.production import (
    eligible_segments,
    input_price,
    output_per_worker,
    produce_and_sell,
    unit_cost,
    visibility,
)
from sim.model.results import ClusterRecord, RunResult
from sim.model.support import equipped_capacity
from sim.model.ties import HorizontalTies, PartnerIndex
from sim.model.world import build_clusters, build_regions, populate_firms
from sim.scenario.codes import DOWNSTREAM, N_SEGMENTS, PRODUCER, UPSTREAM
from sim.scenario.errors import RunFailed
from sim.scenario.files import apply_overrides, build_scenario, load_scenario
from sim.scenario.parameters import dotted_key
from sim.scenario.schema import Scenario, Shock

AGGREGATE: tuple[str, ...] = names("aggregate", identifiers=False)
INITIAL_VERTICAL_TIE_SHARE = 0.15  # the article: upstream-downstream linkages are still weak
CLUSTER_HISTORY: tuple[str, ...] = names("cluster")  # identifiers, then CLUSTER_COLUMNS
REPORTED_AT = [AGGREGATE_COLUMNS.index(name) for name in AGGREGATE]  # in an aggregate row
CLUSTER_TABLE: tuple[str, ...] = tuple(name for name in CLUSTER_HISTORY if name != "step")


def resolve_scenario(
    scenario: Scenario | str | Path,
    overrides: dict[str, Any] | None,
    parameters: dict[str, Any] | None = None,
) -> Scenario:
    """The Scenario a model runs: ``scenario`` with dotted-key ``overrides`` and flat keyword
    ``parameters`` (``planning_quality=0.9``, see ``sim.scenario.parameters``) applied."""
    if parameters:
        flat = {dotted_key(name, "keyword"): value for name, value in parameters.items()}
        overrides = {**(overrides or {}), **flat}
    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        return build_scenario(apply_overrides(scenario.model_dump(), overrides), scenario.name)
    return load_scenario(scenario, overrides or None)


class OutcomeCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` whose model reporters are the registry's aggregate outcomes, and
    the run's seed (so a row of ``mesa.batch_run`` says how to reproduce it).

    The model computes those outcomes every step anyway (array reductions, ``_collect``); this
    collector copies the rows it has not seen yet instead of calling reporters again, so
    ``collect(model)`` and every read agree with ``model.history()``."""

    def __init__(self) -> None:
        reporters = {name: _reporter(name) for name in AGGREGATE}
        super().__init__(model_reporters={"seed": "seed", **reporters})

    def collect(self, model: ClusterModel) -> None:  # type: ignore[override]
        rows = model._aggregate_rows
        seen = len(self.model_vars["seed"])
        for row in rows[seen:]:
            values = row.tolist()
            self.model_vars["seed"].append(model.seed)
            for name, at in zip(AGGREGATE, REPORTED_AT, strict=True):
                self.model_vars[name].append(values[at])
        if hasattr(self, "_collection_steps"):  # Mesa >= 3.4 indexes rows by step
            self._collection_steps.extend(range(len(self._collection_steps), len(rows)))


def _reporter(name: str):
    """The declared reporter of one aggregate outcome: its value at the latest step."""

    def report(model: ClusterModel) -> float:
        return model.latest[name]

    report.__name__ = name
    return report


class ClusterModel(mesa.Model):
    """SME clusters under a policy regime. Keyword arguments only, so Mesa's tools can rebuild it.

    ``scenario`` is a Scenario, a file path or a preset name; ``overrides`` maps dotted keys
    (``"policy.planning_quality"``) to values; any other keyword names one parameter flat
    (``planning_quality=0.9``, ``n_designated=25``; unknown names are rejected). Without a seed
    (``seed=None``, as ``mesa.batch_run`` passes) one is drawn from OS entropy and kept in
    ``model.seed``; a given seed reproduces the run exactly. Burn-in runs inside the
    constructor; ``step()`` then advances one policy quarter. ``model.datacollector`` is a Mesa
    DataCollector of the aggregate outcomes (``sim.model.outcomes``), filled on access.
    """

    def __init__(
        self,
        *,
        scenario: Scenario | str | Path = "top_down",
        seed: int | None = None,
        overrides: dict[str, Any] | None = None,
        **parameters: Any,
    ) -> None:
        self.config = resolve_scenario(scenario, overrides, parameters)
        if seed is None:  # only then: an explicit seed never touches OS entropy
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
        self.seed = int(seed)
        super().__init__(rng=self.seed)
        s = self.config
        self.regions: RegionState = build_regions(s.world, self.rng)
        self.clusters: ClusterState = build_clusters(s.world, len(self.regions.capacity), self.rng)
        self.firms: FirmState = populate_firms(s, self.clusters, self.rng)
        # Own streams for the market and for government: every regime then faces the same
        # demand path for a given seed (common random numbers), so paired differences between
        # regimes measure policy, not luck.
        market_stream, policy_stream, niche_stream = np.random.SeedSequence(self.seed).spawn(3)
        self.market = Market(s.market, s.world.products, np.random.default_rng(market_stream))
        self.policy_rng = np.random.default_rng(policy_stream)
        self._draw_niches(np.random.default_rng(niche_stream))
        self.ties = HorizontalTies()
        # Firms are found by unique id: rows move (compaction), ids and agent objects do not,
        # so moving a row never touches a Python object. Each firm has a permanent handle (its
        # agent, once made, is ``_firm_by_handle[handle]``); its id is
        # ``_uid_of_handle[handle]``, so an exited firm's handle and agent take an entrant's id
        # without touching the agent (``_register_firms``). Mesa's registry learns of firms when
        # read (``sim.model.agent_registry``).
        self._firm_by_handle: dict[int, Firm] = {}
        self._handle_count = 0
        self._agent_registry = AgentRegistry(self)
        self._uid_of_handle = np.zeros(0, dtype=np.int64)
        self._handle_by_uid = np.zeros(0, dtype=np.int64)
        self._slot_by_uid = np.zeros(0, dtype=np.int64)
        # Until burn-in ends firms have ids but no agents (``_make_firm_agents``).
        self._firm_agents_made = False
        self._register_firms(np.arange(self.firms.size))
        self.coordinators: dict[int, ClusterCoordinator] = {}
        self.central_government = CentralGovernment(self)
        self.regional_governments = [
            RegionalGovernment(self, r) for r in range(len(self.regions.capacity))
        ]

        self.budget_spent = 0.0
        self.budget_carried = 0.0  # unspent budget the next quarter may spend
        self.budget: BudgetLines = NO_BUDGET  # this quarter's budget lines
        self.takeup_offered = 0
        self.takeup_taken = 0
        self.entries_step = 0
        self.exits_step = 0
        self._seed_vertical_ties()
        self._calibrate_market()
        for _ in range(s.run.burn_in):
            self._quarter(policy=False)
        if not s.run.burn_in:  # (outcomes read it as a quarter's entry left it)
            take_log_productivity(self.firms)
        if self.firms.n_alive == 0:
            raise RunFailed(
                "every firm exited during burn-in: with these parameters no firm covers its "
                "costs, so there is no world to run a policy in"
            )
        self._make_firm_agents()
        self._founder_max_uid = int(self.firms.uid.max())
        self.founders = self.firms.n_alive
        self.budget_spent = 0.0
        self.budget_carried = 0.0
        self.budget = NO_BUDGET
        self._aggregate_rows: list[np.ndarray] = []  # per step, in AGGREGATE_COLUMNS order
        self._cluster_rows: dict[str, list[np.ndarray]] = {name: [] for name in CLUSTER_COLUMNS}
        self._collect()

    # ---- agent bookkeeping ----------------------------------------------------------------
    def _register_firms(self, slots: np.ndarray, retired_uids: np.ndarray | None = None) -> None:
        """Give newly filled slots the next ids, in slot order, as Mesa numbers new agents.

        The first entrants take over the handles of firms that exited this quarter
        (``retired_uids``), and with them their agents where made, under the new ids; the rest
        get new handles; retired handles left over are dropped. Thousands of firms enter and
        leave a quarter in a national world: making, registering and removing as many Python
        objects was a fifth of the step, so this writes arrays only (agents are made when
        asked for, Mesa's registry is brought up to date when read: ``sim.model.
        agent_registry``). Before burn-in ends slots only get their ids (``_number_firms``)."""
        if not self._firm_agents_made:
            self._number_firms(slots)
            return
        observed = self._agent_registry.observed()
        if observed:  # signals come as firms enter and leave: first what came before
            self._agent_registry.sync()
        uids = Firm.issue_ids(self, len(slots))
        table = self._handle_by_uid
        retired = table[:0] if retired_uids is None else table[retired_uids]  # their handles
        if len(retired):
            self._handle_by_uid[retired_uids] = -1
            if len(retired) > len(slots):
                self._drop_firm_agents(retired[len(slots) :])
        if len(uids):
            self._hand_out(uids, retired[: len(slots)], slots)
        if observed:
            self._agent_registry.sync(signal=True)

    def _hand_out(self, uids: np.ndarray, handles: np.ndarray, slots: np.ndarray) -> None:
        """Entrants with consecutive ``uids`` in ``slots`` take ``handles``, then new ones."""
        if len(handles) < len(uids):
            new = np.arange(self._handle_count, self._handle_count + len(uids) - len(handles))
            self._handle_count += len(new)
            self._uid_of_handle = grown(self._uid_of_handle, int(new[-1]))
            handles = np.concatenate([handles, new])
        ids = slice(int(uids[0]), int(uids[-1]) + 1)
        self._uid_of_handle[handles] = uids
        self._handle_by_uid = grown(self._handle_by_uid, ids.stop - 1)
        self._handle_by_uid[ids] = handles
        self._slot_by_uid = grown(self._slot_by_uid, ids.stop - 1)
        self._slot_by_uid[ids] = slots
        self.firms.uid[slots] = uids

    def _number_firms(self, slots: np.ndarray) -> None:
        """Ids for newly filled slots, the ones their agents would get (``Firm.issue_ids``),
        without agents: nothing can reach a firm's agent before the constructor returns, and
        making and removing agents for the ~1,000 of ~3,700 firms built that exit during
        burn-in was ~2 ms of a default-world run."""
        uids = Firm.issue_ids(self, len(slots))
        if len(uids):
            self._slot_by_uid = grown(self._slot_by_uid, int(uids[-1]))
        self.firms.uid[slots] = uids
        self._slot_by_uid[uids] = slots

    def _make_firm_agents(self) -> None:
        """Handles for the firms that came through burn-in, with the ids they have, in slot
        order (the order Mesa registers their agents in); from now on handles follow entry and
        exit (``_register_firms``)."""
        self._firm_agents_made = True
        self._agent_registry.add_firm_type(Firm)
        self._add_firm_handles(self.firms.uid[: self.firms.size].copy())

    def _add_firm_handles(self, uids: np.ndarray) -> None:
        """New handles, continuing the last, for firms with these ids."""
        if not len(uids):
            return
        handles = np.arange(self._handle_count, self._handle_count + len(uids))
        self._handle_count += len(uids)
        self._uid_of_handle = grown(self._uid_of_handle, int(handles[-1]))
        self._uid_of_handle[handles] = uids
        self._handle_by_uid = grown(self._handle_by_uid, int(uids.max()))
        self._handle_by_uid[uids] = handles

    def _drop_firm_agents(self, handles: np.ndarray) -> None:
        """The agents, where made, of firms whose handles are retired go too."""
        if self._firm_by_handle:  # some agents were asked for
            made = self._firm_by_handle
            self._agent_registry.left([made.pop(h) for h in handles.tolist() if h in made])

    def _firm_agent(self, handle: int) -> Firm:
        """The agent of the live firm under ``handle``, made the first time it is asked for."""
        agent = self._firm_by_handle.get(handle)
        if agent is None:
            agent = self._firm_by_handle[handle] = Firm.view(self, handle)
        return agent

    def _give_unique_id(self, agent: Firm, unique_id: int) -> None:
        """Record a new id for a Firm agent (Mesa 3.5 numbers an agent it registers)."""
        self._handle_by_uid[self._uid_of_handle[agent.handle]] = -1
        self._uid_of_handle[agent.handle] = unique_id
        self._handle_by_uid = grown(self._handle_by_uid, unique_id)
        self._handle_by_uid[unique_id] = agent.handle

    def slot_of(self, unique_id: int) -> int:
        """The row of a live firm (-1 for a firm that left)."""
        return int(self._slot_by_uid[unique_id]) if 0 <= unique_id < len(self._slot_by_uid) else -1

    def firm_at(self, slot: int) -> Firm | None:
        """The Firm agent in a slot, or None for an empty slot or -1."""
        if not 0 <= slot < self.firms.size or not self._firm_agents_made:
            return None
        uid = int(self.firms.uid[slot])
        return self._firm_agent(int(self._handle_by_uid[uid])) if uid >= 0 else None

    def add_coordinator(self, cluster: int, kind: int) -> None:
        self.remove_coordinator(cluster)
        self.coordinators[cluster] = ClusterCoordinator(self, cluster, kind)

    def remove_coordinator(self, cluster: int) -> None:
        agent = self.coordinators.pop(cluster, None)
        if agent is not None:
            agent.remove()

    # Mesa's registry: written by Mesa as ever, read through AgentSets that bring it up to
    # date first (``sim.model.agent_registry``); these let the two meet in the right order.
    def register_agent(self, agent: mesa.Agent) -> None:
        registry = self._agent_registry
        registry.registering(agent)
        registry.raw = True  # Mesa writes its tables as they are
        try:
            super().register_agent(agent)
        finally:
            registry.raw = False

    def deregister_agent(self, agent: mesa.Agent) -> None:
        registry = self._agent_registry
        registry.deregistering(agent)
        registry.raw = True
        try:
            super().deregister_agent(agent)
        finally:
            registry.raw = False

    def remove_all_agents(self) -> None:
        self._agent_registry.sync()
        super().remove_all_agents()

    def __getstate__(self) -> dict[str, Any]:
        self._agent_registry.sync()  # a pickled model carries its registry whole
        return super().__getstate__()

    def founding_slots_alive_mask(self) -> np.ndarray:
        """Firms alive now that already existed when policy started (for survival)."""
        uid = self.firms.uid
        return self.firms.alive & (uid <= self._founder_max_uid)

    # ---- set-up -----------------------------------------------------------------------------
    def _seed_vertical_ties(self) -> None:
        f = self.firms
        partners = PartnerIndex(f, self.clusters.count)
        producers = np.flatnonzero(f.stage == PRODUCER)
        for column, stage in ((f.supplier, UPSTREAM), (f.trader, DOWNSTREAM)):
            chosen = producers[self.rng.random(len(producers)) < INITIAL_VERTICAL_TIE_SHARE]
            column[chosen] = partners.draw(f.cluster[chosen], stage, self.rng)

    def _draw_niches(self, rng: np.random.Generator) -> None:
        """Each cluster's own market opportunity: the quarterly growth of its buyer network,
        correlated with its known potential (size, tradition) only as far as
        ``market.potential_opportunity_correlation`` says, so a planner who sees potential
        sees opportunity only partly (Tambunan 2005: access to growing markets decides)."""
        c, p = self.clusters, self.config.market
        size = np.bincount(self.firms.cluster, minlength=c.count)
        rho = p.potential_opportunity_correlation
        signal = rho * known_potential(self, size) + np.sqrt(1 - rho**2) * rng.standard_normal(
            c.count
        )
        c.niche_growth = p.niche_growth_spread * signal
        c.niche_factor = np.exp(c.niche_growth)

    def _calibrate_market(self) -> None:
        """Size demand and outside competition from the initial firms' capacity and costs.

        The founders' customer bases start at the value of what they can make (firms sized to
        their customers when the world began); from then on only competitiveness moves them."""
        f, m = self.firms, self.market
        f.output_capacity[:] = equipped_capacity(self, f.workers * output_per_worker(self))
        sellers = np.flatnonzero(f.stage != UPSTREAM)
        eligible = eligible_segments(self, sellers)
        f.segment[sellers] = N_SEGMENTS - 1 - np.argmax(eligible[:, ::-1], axis=1)
        cost = unit_cost(self, input_price(self))
        product = self.clusters.product[f.cluster[sellers]]
        for p in range(len(m.products)):
            if (product == p).any():
                m.reference_cost[p] = np.median(cost[sellers][product == p])
        market_index = product * N_SEGMENTS + f.segment[sellers]
        price = cost[sellers] * (1 + self.config.firms.markup) * m.premium[f.segment[sellers]]
        f.goodwill[sellers] = f.output_capacity[sellers] * price
        weight = m.firm_weight(
            f.segment[sellers],
            m.price_disutility(product, cost[sellers]),
            f.quality[sellers],
            visibility(self)[sellers],
            f.goodwill[sellers],
        )
        shape = (len(m.products), N_SEGMENTS)
        value = np.bincount(
            market_index, weights=f.output_capacity[sellers] * price, minlength=m.demand.size
        )
        inside = np.bincount(market_index, weights=weight, minlength=m.demand.size)
        m.calibrate(value.reshape(shape), inside.reshape(shape))
        # Capacity caps make sales fall short of the logit shares: iterate demand to the target.
        capacity_value = f.output_capacity[sellers] * price
        for _ in range(12):
            sales = m.clear(market_index, weight, capacity_value)
            sold = np.bincount(market_index, weights=sales, minlength=m.demand.size).reshape(shape)
            m.rescale(sold / np.maximum(value.reshape(shape), 1e-12), sold / m.effective_demand)
        m.clear(market_index, weight, capacity_value)

    # ---- dynamics ---------------------------------------------------------------------------
    @property
    def policy_quarter(self) -> int:
        """0-based index of the current policy quarter (the planning cycle counts from it)."""
        return self.steps - 1

    def step(self) -> None:
        self._quarter(policy=True)
        self._collect()

    def _quarter(self, policy: bool) -> None:
        self.market.evolve(self.steps if policy else -1)
        if policy:
            self.central_government.step()
        else:
            self.clusters.support_step[:] = 0
            self.firms.support[:] = 0
        update_coordination(self)
        partners = PartnerIndex(self.firms, self.clusters.count)
        update_ties(self, partners)
        learn(self)
        produce_and_sell(self)
        account(self)
        invest_and_adjust(self)
        self._exit_and_entry()
        self._compact()
        c = self.clusters
        c.sales_previous = c.sales
        c.sales = cluster_sum(self.firms.cluster, self.firms.sales, c.count)

    def _exit_and_entry(self) -> None:
        f = self.firms
        leaving, retired, expected = exits(self)
        self.exits_step = len(leaving)
        if len(leaving):
            self._slot_by_uid[retired] = -1
        counts = entrants_per_cluster(self, expected)
        total = int(counts.sum())
        self.entries_step = total
        slots = f.allocate(total) if total else np.zeros(0, dtype=np.int64)
        initialise_entrants(self, slots, np.repeat(np.arange(self.clusters.count), counts))
        self._register_firms(slots, retired)

    def _compact(self) -> None:
        """Close the holes exits left: the last live firms move into them, and every slot
        number held elsewhere (vertical ties, horizontal ties, Firm agents) follows its firm."""
        f = self.firms
        moved_from, moved_to = f.compact()
        if not len(moved_from):
            return
        # only slot numbers at or past the new end moved (exits' ties were cut already)
        a, b = self.ties.pairs()
        a, b = follow_compaction(
            f.supplier, f.trader, a, b, moved_from, moved_to, f.size, f.uid, self._slot_by_uid
        )
        self.ties.take(a, b)

    def trigger_shock(
        self,
        size: float = 0.5,
        segments: tuple[str, ...] = ("export",),
        products: tuple[str, ...] = (),
    ) -> None:
        """Hit demand now (the browser view's shock button); it recovers as scheduled shocks do."""
        self.market.apply_shock(
            Shock(
                step=max(self.steps, 0), size=size, segments=list(segments), products=list(products)
            )
        )

    # ---- outcomes ---------------------------------------------------------------------------
    def _collect(self) -> None:
        per_cluster = cluster_outcomes(self)
        classify_clusters(self, per_cluster)
        for name, row in zip(CLUSTER_COLUMNS, per_cluster.table, strict=True):
            self._cluster_rows[name].append(row)
        self._aggregate_rows.append(aggregate_outcomes(self, per_cluster))

    @property
    def latest(self) -> dict[str, float]:
        """The aggregate outcomes of the last complete step, by name."""
        return dict(zip(AGGREGATE_COLUMNS, self._aggregate_rows[-1].tolist(), strict=True))

    @property
    def datacollector(self) -> OutcomeCollector:
        """Mesa's DataCollector of the aggregate outcomes, one row per step from policy start.

        Made on first access and brought up to date from the rows the model keeps on every
        access, so a run that never reads it pays nothing per step (``mesa.batch_run`` reads it
        once, at the end)."""
        collector = self.__dict__.get("_datacollector")
        if collector is None:
            collector = self.__dict__["_datacollector"] = OutcomeCollector()
        collector.collect(self)
        return collector

    # The browser view reads outcomes while its Play loop steps the model in another thread:
    # readers take a snapshot of complete steps (a step's aggregate row is appended last).
    def history(self) -> pd.DataFrame:
        rows = list(self._aggregate_rows)
        table = np.array(rows).reshape(len(rows), len(AGGREGATE_COLUMNS))
        return pd.DataFrame(table, columns=list(AGGREGATE_COLUMNS))

    def _cluster_identifiers(self) -> dict[str, Any]:
        """The identifier columns of the per-cluster table of one step, product names given."""
        c = self.clusters
        return {
            "cluster": np.arange(c.count),
            "name": c.name,
            "product": [self.config.world.products[p] for p in c.product],
            "region": c.region,
        }

    def cluster_table(self) -> pd.DataFrame:
        """Per-cluster state at the last complete step: one row per cluster (the registry's
        cluster columns but ``step``; ``product`` as names)."""
        last = len(self._aggregate_rows) - 1
        ids = self._cluster_identifiers()
        return pd.DataFrame(
            {
                name: ids[name] if name in ids else self._cluster_rows[name][last]
                for name in CLUSTER_TABLE
            }
        )

    def cluster_history(self) -> pd.DataFrame:
        """Per-cluster outcomes for every step so far, long format (step, cluster, ...), in the
        registry's order (``sim.model.outcomes``)."""
        return self._cluster_record().table()

    def _cluster_record(self) -> ClusterRecord:
        """The per-cluster rows of every complete step so far (``cluster_history`` unmade)."""
        steps, c = len(self._aggregate_rows), self.clusters
        return ClusterRecord(
            order=CLUSTER_HISTORY,
            names=c.name,
            product=c.product,
            region=c.region,
            columns={name: self._cluster_rows[name][:steps] for name in CLUSTER_COLUMNS},
        )

    def results(self) -> RunResult:
        aggregate = self.history()
        shocks = sorted(shock.step for shock in self.config.market.shocks)
        return RunResult(
            aggregate=aggregate,
            clusters=self._cluster_record(),  # made into a table when first read
            summary=summarise(aggregate, shocks),
        )
