"""The Scenario schema: every model parameter, typed, bounded and documented with its source.

A scenario file is the single source of truth for a run. Regimes are not code paths but presets
over the continuous ``policy`` section, so sweeps can move between them one ingredient at a time.
Each field's description ends with its source: the model brief (``brief``), a cited study, or
``assumed`` where no figure exists (those are the parameters to sweep).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sim.scenario.codes import SEGMENTS


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, so a typo never silently does nothing.

    NaN and infinities are refused everywhere (``allow_inf_nan``): a NaN passes every ``ge``/``le``
    bound and every "sums to 1" check, then poisons a whole run.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def _field(default, lo=None, hi=None, doc: str = ""):
    return Field(default, ge=lo, le=hi, description=doc)


def _bounded(lo: float, hi: float) -> type:
    """A float element of a list, within [lo, hi] (lists need their elements bounded too)."""
    return Annotated[float, Field(ge=lo, le=hi, allow_inf_nan=False)]


Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
MAX_CLUSTERS = 100_000  # n_clusters x scale: ten national-size worlds
MAX_FIRMS = 5_000_000  # clusters x median size: what a run can hold in memory


class NamedCluster(Strict):
    """A cluster placed by hand (e.g. Jepara furniture), overriding the random draw for one slot."""

    name: Label = Field(description="Label shown in outputs, e.g. 'Jepara furniture'.")
    product: Label = Field(description="One of world.products.")
    region: int = _field(0, 0, 1_000_000, "Index of the region (0-based), below n_regions x scale.")
    n_firms: int = _field(100, 5, 100_000, "Number of firms at start. Source: brief / cited study.")
    tradition: float = _field(0.8, 0, 1, "Age and reputation of the craft, visible to government.")
    quality: float | None = Field(
        None,
        ge=0,
        le=1,
        description=(
            "Mean product quality of its firms at start; export buyers ask for "
            "market.quality_threshold[2]. None: drawn from tradition like every cluster. "
            "Source: the record of the cluster's exports."
        ),
    )
    designated: bool = Field(
        False, description="Forced into the designated list when the regime designates clusters."
    )


class World(Strict):
    n_regions: int = _field(10, 1, 1000, "Provinces/districts with a regional government. Assumed.")
    n_clusters: int = _field(100, 1, 20_000, "SME clusters. Brief: ~100 in the default world.")
    products: list[Label] = Field(
        default=["furniture", "rattan", "batik", "food", "metalwork", "pottery"],
        min_length=1,
        max_length=100,
        description="Product lines; clusters of one product compete in one market. Assumed.",
    )
    scale: float = _field(
        1.0, 0.01, 1000, "Multiplies n_clusters and n_regions: 100 gives a national-size world."
    )
    cluster_size_median: float = _field(
        24, 5, 10_000, "Median firms per cluster (lognormal). Brief: most clusters small."
    )
    cluster_size_sigma: float = _field(
        1.0, 0, 3, "Lognormal sigma of cluster sizes: right skew, a few of several hundred. Brief."
    )
    cluster_size_min: int = _field(8, 2, 10_000, "Smallest cluster drawn. Assumed.")
    cluster_size_max: int = _field(800, 10, 100_000, "Largest cluster drawn. Assumed.")
    stage_shares: list[_bounded(0, 1)] = Field(
        default=[0.2, 0.7, 0.1],
        min_length=3,
        max_length=3,
        description="Share of firms upstream / producer / downstream (finisher-trader). Assumed.",
    )
    workers_median: float = _field(
        4, 1, 1000, "Median workers per firm (lognormal). Brief: most firms < 20 workers."
    )
    workers_sigma: float = _field(0.9, 0, 3, "Lognormal sigma of firm size. Assumed.")
    trader_size_factor: float = _field(
        3.0, 1, 50, "Downstream finisher-traders are this many times larger. Brief fact 7."
    )
    productivity_sigma: float = _field(
        0.25, 0, 2, "Lognormal sigma of initial productivity: heterogeneous firms. Brief fact 7."
    )
    regional_capacity: tuple[_bounded(0, 1), _bounded(0, 1)] = Field(
        default=(0.3, 0.9),
        description="Range of regional government capacity (coaching, monitoring, admin). Assumed.",
    )
    named_clusters: list[NamedCluster] = Field(
        default_factory=list,
        max_length=MAX_CLUSTERS,
        description="Clusters placed by hand (e.g. Jepara furniture), each a NamedCluster.",
    )

    @model_validator(mode="after")
    def _check(self) -> World:
        if abs(sum(self.stage_shares) - 1.0) > 1e-6:
            raise ValueError("stage_shares must sum to 1")
        lo, hi = self.regional_capacity
        if not 0 <= lo <= hi <= 1:
            raise ValueError("regional_capacity must be (low, high) with 0 <= low <= high <= 1")
        if self.cluster_size_min > self.cluster_size_max:
            raise ValueError("cluster_size_min must not exceed cluster_size_max")
        if len(set(self.products)) < len(self.products):
            raise ValueError("products must not repeat a name")
        clusters = max(round(self.n_clusters * self.scale), len(self.named_clusters))
        if clusters > MAX_CLUSTERS:
            raise ValueError(
                f"n_clusters x scale gives {clusters:,} clusters; the limit is {MAX_CLUSTERS:,}"
            )
        firms = clusters * self.cluster_size_median + sum(c.n_firms for c in self.named_clusters)
        if firms > MAX_FIRMS:
            raise ValueError(
                f"about {firms:,.0f} firms (clusters x cluster_size_median, plus named clusters); "
                f"the limit is {MAX_FIRMS:,}"
            )
        regions = max(1, round(self.n_regions * self.scale))
        for named in self.named_clusters:
            if named.product not in self.products:
                raise ValueError(
                    f"named cluster {named.name!r}: product {named.product!r} not in products"
                )
            if named.region >= regions:
                raise ValueError(
                    f"named cluster {named.name!r}: region {named.region} is not below the "
                    f"number of regions ({regions})"
                )
        return self


class Shock(Strict):
    """A scheduled demand shock: demand in the hit segments drops, then recovers gradually."""

    step: int = _field(20, 0, 10_000, "Policy quarter at which the shock hits.")
    size: float = _field(0.5, 0, 0.99, "Fraction of demand lost. Brief: 30-85% export shocks.")
    segments: list[Literal[SEGMENTS]] = Field(default=["export"], min_length=1, max_length=3)
    products: list[Label] = Field(
        default_factory=list, max_length=100, description="Empty means every product."
    )
    recovery_rate: float = _field(
        0.05, 0, 1, "Share of the lost demand regained each quarter (0: permanent). Assumed."
    )


class Market(Strict):
    segment_premium: list[_bounded(0.01, 100)] = Field(
        default=[1.0, 1.5, 2.2],
        min_length=3,
        max_length=3,
        description="Price a buyer pays per unit of a firm's output in each segment. Assumed.",
    )
    quality_threshold: list[_bounded(0, 1)] = Field(
        default=[0.0, 0.45, 0.6],
        min_length=3,
        max_length=3,
        description="Quality needed to sell in each segment. Assumed.",
    )
    demand_growth_mean: list[_bounded(-0.1, 0.1)] = Field(
        default=[0.0, 0.008, 0.012],
        min_length=3,
        max_length=3,
        description="Mean quarterly demand growth per segment; drawn per product. Assumed.",
    )
    demand_growth_spread: float = _field(
        0.01, 0, 0.2, "Spread of growth across products: true market opportunity differs. Assumed."
    )
    volatility: float = _field(0.04, 0, 0.5, "Quarterly sd of log demand shocks. Assumed.")
    growth_drift: float = _field(
        0.002, 0, 0.05, "Quarterly sd of the random walk in each growth rate. Assumed."
    )
    outside_share: float = _field(
        0.6, 0.05, 0.95, "Initial share of each market held by outside competitors. Assumed."
    )
    outside_improvement: float = _field(
        0.006, 0, 0.1, "Quarterly quality gain of outside competitors. Assumed."
    )
    outside_cost_decline: float = _field(
        0.005,
        0,
        0.1,
        "Quarterly fall in outside competitors' unit cost (their productivity). Assumed.",
    )
    customer_turnover: float = _field(
        0.1,
        0.01,
        1,
        "Share of a seller's customer base that re-chooses each quarter: market shares move by "
        "replicator dynamics (Silverberg, Dosi & Orsenigo 1988; Dosi, Fagiolo & Roventini "
        "2010). Assumed.",
    )
    entry_goodwill: float = _field(
        0.3,
        0,
        1,
        "An entrant's first customer base, as a share of the value it can make. Assumed.",
    )
    niche_growth_spread: float = _field(
        0.01,
        0,
        0.1,
        "Sd across clusters of the quarterly growth of a cluster's own buyer network (a "
        "cluster-specific market opportunity on top of its product's). Assumed.",
    )
    potential_opportunity_correlation: float = _field(
        0.2,
        -1,
        1,
        "Correlation of a cluster's buyer-network growth with its known potential (size, "
        "tradition): what a market-blind planner's choice gets right by chance. Assumed.",
    )
    price_sensitivity: float = _field(3.0, 0, 20, "Logit weight on log price. Assumed.")
    quality_sensitivity: float = _field(4.0, 0, 20, "Logit weight on quality. Assumed.")
    utilisation_target: float = _field(
        0.85, 0.1, 1.5, "Demand is set so firms start near this capacity use. Assumed."
    )
    shocks: list[Shock] = Field(
        default_factory=list,
        max_length=1000,
        description="Scheduled demand shocks (step, size, segments, products, recovery_rate).",
    )


class Firms(Strict):
    wage: float = _field(1.0, 0.01, 100, "Labour cost per worker per quarter (numeraire). Assumed.")
    input_coefficient: float = _field(0.5, 0, 5, "Input units per unit of output. Assumed.")
    input_price: float = _field(0.6, 0, 10, "Price of an input unit bought outside. Assumed.")
    local_input_discount: float = _field(
        0.2, 0, 0.9, "A local upstream supplier's price discount (transport, trust). Assumed."
    )
    outside_reliability: float = _field(
        0.8, 0, 1, "Chance per quarter that outside inputs arrive in full. Assumed."
    )
    local_reliability: float = _field(
        0.95, 0, 1, "Chance per quarter that a local supplier delivers in full. Assumed."
    )
    shortfall: float = _field(0.3, 0, 1, "Output lost in a quarter when inputs fail. Assumed.")
    markup: float = _field(0.25, 0, 3, "Price over unit cost. Assumed.")
    overhead_per_worker: float = _field(0.3, 0, 10, "Fixed cost per worker per quarter. Assumed.")
    raw_material_cost: float = _field(
        0.15, 0, 10, "Upstream firms' cost per input unit produced. Assumed."
    )
    outside_input_sales: float = _field(
        0.7, 0, 1, "Share of spare upstream capacity sold to buyers outside the cluster. Assumed."
    )
    upstream_output_factor: float = _field(
        6.0, 0.1, 100, "Input units an upstream worker makes per unit of productivity. Assumed."
    )
    trader_commission: float = _field(
        0.3, 0, 0.9, "Share of a tied producer's sales kept by its finisher-trader. Brief fact 3."
    )
    trader_visibility: float = _field(
        0.8, 0, 5, "Visibility a trader's buyer network adds to tied producers. Brief fact 7."
    )
    export_knowledge: float = _field(
        0.5, 0, 1, "Market knowledge a firm needs to find export buyers without a trader. Assumed."
    )
    trader_quality_bridge: float = _field(
        0.15, 0, 1, "Quality gap a trader's finishing closes for export. Assumed."
    )
    spillover_rate: float = _field(
        0.08, 0, 1, "Quarterly share of a partner's lead learnt. Uncertain: sweep. Assumed."
    )
    absorptive_mean: float = _field(0.5, 0, 1, "Mean absorptive capacity. Uncertain. Assumed.")
    vertical_tie_rate: float = _field(
        0.015, 0, 1, "Quarterly chance an unlinked producer finds a local supplier. Assumed."
    )
    buyer_tie_rate: float = _field(
        0.015, 0, 1, "Quarterly chance an unlinked producer finds a local trader. Assumed."
    )
    horizontal_tie_rate: float = _field(
        0.03, 0, 1, "Quarterly chance a firm forms a cooperation tie. Uncertain. Assumed."
    )
    tie_decay: float = _field(0.03, 0, 1, "Quarterly chance a tie lapses. Assumed.")
    max_horizontal_ties: int = _field(6, 0, 100, "Cap on a firm's cooperation ties. Assumed.")
    invest_share: float = _field(0.3, 0, 1, "Share of cash above the buffer invested. Assumed.")
    invest_efficiency: float = _field(
        0.02, 0, 2, "Productivity gain per unit invested per worker. Assumed."
    )
    cash_buffer: float = _field(1.0, 0, 100, "Cash kept per worker before investing. Assumed.")
    depreciation: float = _field(0.005, 0, 0.2, "Quarterly productivity decay. Assumed.")
    market_knowledge_mean: float = _field(
        0.3, 0, 1, "Mean skill at sensing demand; traders have more. Assumed."
    )
    segment_review_rate: float = _field(
        0.25, 0, 1, "Share of firms that reconsider their target segment each quarter. Assumed."
    )
    hiring_rate: float = _field(0.08, 0, 1, "Quarterly workforce growth when at capacity. Assumed.")
    management_span: float = _field(
        30, 1, 10_000, "Workers at which hiring has slowed by half (managerial limits). Assumed."
    )
    firing_rate: float = _field(0.1, 0, 1, "Quarterly workforce cut when underused. Assumed.")
    exit_patience: int = _field(
        4, 1, 100, "Quarters of negative cash before exit. Uncertain: sweep. Assumed."
    )
    entry_rate: float = _field(
        0.02, 0, 1, "Spin-offs per firm per quarter in a cluster at full margin. Assumed."
    )


class Coordination(Strict):
    membership_threshold: int = _field(
        10, 1, 10_000, "Members needed before an association forms a coordinator. Brenner 2001."
    )
    membership_threshold_share: float = _field(
        0.3, 0, 1, "...or this share of the cluster, whichever is larger. Assumed."
    )
    join_rate: float = _field(0.02, 0, 1, "Base quarterly chance a firm joins. Assumed.")
    leave_rate: float = _field(0.08, 0, 1, "Base quarterly chance a member leaves. Assumed.")
    crisis_response: float = _field(
        3.0, 0, 50, "Mobilisation per unit of sales swing (crisis or opportunity). Brief fact 5."
    )
    mobilisation_decay: float = _field(
        0.3, 0, 1, "Quarterly fading of the mobilisation a sales swing causes. Assumed."
    )
    informal_joint_action: float = _field(
        0.2, 0, 1, "Joint action of members without a coordinator, vs legitimacy 1. Assumed."
    )
    joint_purchasing_saving: float = _field(
        0.1, 0, 0.9, "Input cost cut at full joint action (Schmitz 1995). Assumed."
    )
    joint_marketing_visibility: float = _field(
        0.5, 0, 5, "Visibility added at full joint action. Assumed."
    )
    brokerage: float = _field(
        2.0, 0, 20, "Factor by which a legitimate coordinator raises tie formation. Assumed."
    )
    legitimacy_gain: float = _field(0.05, 0, 1, "Quarterly legitimacy gain with benefits. Assumed.")
    legitimacy_decay: float = _field(0.02, 0, 1, "Quarterly legitimacy decay. Assumed.")
    appointed_legitimacy: float = _field(
        0.15, 0, 1, "Starting legitimacy of an appointed coordinator. Brief."
    )
    emergent_legitimacy: float = _field(
        0.5, 0, 1, "Starting legitimacy of an emergent coordinator. Brief."
    )


class Instruments(Strict):
    """How each instrument changes a firm: the same in every regime (no regime multiplier)."""

    coaching_effect: float = _field(
        0.08,
        0,
        1,
        "Productivity gain of a full coaching dose at full gap, absorption. Small-firm training "
        "trials: sales/profit effects mostly 5-10%, few significant (McKenzie & Woodruff 2014); "
        "0.17 (Bloom et al. 2013, large Indian textile firms) is an upper bound.",
    )
    coaching_quality_effect: float = _field(
        0.08, 0, 1, "Quality gain of a full coaching dose. Assumed."
    )
    coaching_dose_cost: float = _field(
        4.0, 0.01, 1000, "Budget for one full coaching dose for one firm. Assumed."
    )
    equipment_effect: float = _field(
        0.05,
        0,
        1,
        "Capacity gain of a full machine stock: capacity x (1 + effect x e / (1 + e)), e = stock "
        "per worker; unit cost stays set by labour productivity. Assumed.",
    )
    equipment_running_cost: float = _field(
        0.02,
        0,
        0.5,
        "Quarterly running cost (energy, spares, maintenance bought in) per unit of machine "
        "stock, paid from value added and cash. Assumed (~8% of the machine's value a year).",
    )
    equipment_depreciation: float = _field(
        0.025,
        0,
        1,
        "Quarterly depreciation of the machine stock: 10% a year straight-line, a common "
        "accounting rate for machinery (10-year life).",
    )
    linkage_visibility: float = _field(
        1.0,
        0,
        10,
        "Most visibility bought market linkage can add: awareness saturates, a full dose's "
        "stock gives half of it (concave response: Nerlove & Arrow 1962; Simon & Arndt 1980). "
        "Level assumed.",
    )
    linkage_knowledge: float = _field(
        0.1, 0, 1, "Market knowledge added by a full market-linkage dose. Assumed."
    )
    linkage_dose_cost: float = _field(3.0, 0.01, 1000, "Budget for one linkage dose. Assumed.")
    visibility_decay: float = _field(0.1, 0, 1, "Quarterly decay of bought visibility. Assumed.")
    takeup_cost: float = _field(
        0.15, 0, 5, "Firm's perceived cost (time) of taking part. McKenzie & Woodruff 2014."
    )
    perception_noise: float = _field(
        0.3, 0, 5, "Noise in a firm's judgement of usefulness, shrinking with knowledge. Assumed."
    )


class InstrumentMix(Strict):
    coaching: float = _field(0.25, 0, 1, "Direct coaching / business development services.")
    equipment: float = _field(0.25, 0, 1, "Machines and tools (grants in kind).")
    market_linkage: float = _field(0.25, 0, 1, "Trade fairs, buyer matching, market information.")
    credit: float = _field(0.25, 0, 1, "Subsidised working capital.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> InstrumentMix:
        if abs(self.coaching + self.equipment + self.market_linkage + self.credit - 1) > 1e-6:
            raise ValueError("instrument shares must sum to 1")
        return self

    def as_list(self) -> list[float]:
        return [self.coaching, self.equipment, self.market_linkage, self.credit]


class Policy(Strict):
    """The policy space. Regimes are presets; see scenarios/*.yaml and docs/ODD.md."""

    budget_per_quarter: float = _field(
        400.0, 0, 1e9, "Central budget per quarter (wage units). Same in every regime."
    )
    selected_clusters: int = _field(
        0, 0, 100_000, "Clusters the planner selects by score (the article: 25). 0: none."
    )
    reselect_each_cycle: bool = Field(
        False, description="Re-select each planning cycle (true) or designate once (false)."
    )
    open_share: float = _field(
        0.0, 0, 1, "Share of budget open to any organised cluster that applies: non-discrimination."
    )
    market_attention: float = _field(
        0.0, 0, 1, "Weight of the market-growth signal, against known potential, in selection."
    )
    planning_quality: float = _field(
        0.3, 0, 1, "How well the planner's estimates of markets and needs track the truth."
    )
    needs_from_firms: float = _field(
        0.0, 0, 1, "Weight of members' relayed requests, against the planner's mix."
    )
    instrument_mix: InstrumentMix = Field(default_factory=InstrumentMix)
    appointed_coordinators: bool = Field(
        False, description="Government installs a coordinator in each selected cluster."
    )
    emergent_coordinators: bool = Field(
        True, description="Associations may form coordinators once past the threshold."
    )
    voluntary: bool = Field(
        False, description="Firms apply (true) or are enrolled by the programme (false)."
    )
    cofinancing_share: float = _field(
        0.0, 0, 0.9, "Share of a support dose the firm pays itself (only when voluntary)."
    )
    monitoring: float = _field(
        0.0, 0, 1, "Effort to observe results, limited by regional capacity."
    )
    reallocation_rate: float = _field(
        0.5, 0, 5, "How strongly observed results shift the next allocation."
    )
    planning_cycle: int = _field(4, 1, 400, "Quarters between plans.")
    delivery_leakage: float = _field(
        0.4, 0, 1, "Share of support lost where regional capacity is zero. Assumed."
    )
    appointed_coordinator_cost: float = _field(
        2.0,
        0,
        1000,
        "Running cost of one appointed coordinator per quarter (wage units: a facilitator's "
        "salary and office), paid from the budget before allocation. Assumed.",
    )
    unspent: Literal["carry", "lapse"] = Field(
        "carry",
        description="Budget a quarter leaves unspent is carried to the next quarter (carry) or "
        "returned to the treasury (lapse). A policy choice; assumed.",
    )


class Run(Strict):
    steps: int = _field(40, 1, 100_000, "Policy quarters simulated after burn-in. Brief: 40.")
    burn_in: int = _field(20, 0, 10_000, "Quarters before policy starts, not reported. Assumed.")


class Scenario(Strict):
    name: Label = Field("unnamed", description="Label used in outputs; defaults to the file name.")
    description: Text = Field("", description="Free text.")
    world: World = Field(default_factory=World)
    market: Market = Field(default_factory=Market)
    firms: Firms = Field(default_factory=Firms)
    coordination: Coordination = Field(default_factory=Coordination)
    instruments: Instruments = Field(default_factory=Instruments)
    policy: Policy = Field(default_factory=Policy)
    run: Run = Field(default_factory=Run)

    @model_validator(mode="after")
    def _shocks_hit_known_products(self) -> Scenario:
        for index, shock in enumerate(self.market.shocks):
            unknown = [name for name in shock.products if name not in self.world.products]
            if unknown:
                raise ValueError(
                    f"market.shocks.{index}.products: {unknown[0]!r} is not in world.products"
                )
        return self

    def content_hash(self) -> str:
        """Stable hash of every parameter, whatever the file layout: keys results and manifests."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def policy_active(self) -> bool:
        return self.policy.budget_per_quarter > 0 and (
            self.policy.selected_clusters > 0 or self.policy.open_share > 0
        )
