"""Every outcome a run returns, declared once: name, level, unit and meaning.

In the idiom of Mesa's ``DataCollector(model_reporters=...)`` and Agents.jl's ``adata``/``mdata``:
the reporters (``sim.model.metrics``) compute the values, this registry says which columns exist,
in which order, and what they mean. Levels:

- ``aggregate``: one value per step for the whole world, a column of ``model.history()``
  (``RunResult.aggregate``);
- ``cluster``: one value per step per cluster, a column of ``model.cluster_history()``
  (``RunResult.clusters``; ``model.cluster_table()`` has the same columns but ``step``);
- ``summary``: one value per run, a key of ``RunResult.summary``.

Identifiers (step, cluster, name, product, region) are declared too, flagged ``identifier``.
Each outcome has a ``type`` (``TYPES``): what a written table holds in its column (counts as
integers, codes as their labels; the computed arrays stay floats, see ``sim.runner.tables``).
Some outcomes are returned only in some runs (``condition``): the resilience outcomes when the
scenario schedules a shock, and the group outcomes of ``sim.model.groups.simulate_groups``.
Group outcomes are families: their names hold the placeholder ``<group>`` (see ``GROUP``).

Money is in wage units (``firms.wage`` is the numeraire: one worker's labour cost per quarter);
a step is a quarter; step 0 is the start of policy (the end of burn-in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.scenario.codes import CLUSTER_TYPES, SEGMENTS

LEVELS: tuple[str, ...] = ("aggregate", "cluster", "summary")
SHOCK = "shock"  # returned only when the scenario schedules a market shock (market.shocks)
GROUPS = "groups"  # returned only by sim.model.groups.simulate_groups (``outcomes: groups``)
CONDITIONS: dict[str, str] = {
    "": "always",
    SHOCK: "with a scheduled shock",
    GROUPS: "group runs (simulate_groups)",
}
GROUP = "<group>"
GROUP_MEANING = (
    "`designated` (the clusters a top-down plan designates), `other` (the rest) or a named "
    "cluster's key (first word of its name, lower case, e.g. `jepara`)"
)

TYPES: dict[str, str] = {
    "real": "a real number",
    "integer": "a count (whole number)",
    "category": "a label (the model stores an integer code; tables write the label)",
    "flag": "0 or 1",
    "text": "text",
}
INTEGER, CATEGORY, FLAG, TEXT = "integer", "category", "flag", "text"

MONEY = "wage units per quarter"
SHARE = "share 0-1"


@dataclass(frozen=True)
class Outcome:
    """One declared outcome: a column (aggregate, cluster) or summary key of a run."""

    name: str  # column or key; a family's name holds ``<group>``
    level: str  # "aggregate", "cluster" or "summary"
    unit: str
    meaning: str
    identifier: bool = False  # a key column (step, cluster id, ...), not a measurement
    condition: str = ""  # "" always returned; SHOCK or GROUPS: only in those runs
    type: str = "real"  # a key of TYPES: what a written table holds in the column

    @property
    def family(self) -> bool:
        return GROUP in self.name

    def matches(self, column: str) -> bool:
        """Whether ``column`` is this outcome (a family matches any group's column)."""
        if not self.family:
            return column == self.name
        pattern = re.escape(self.name).replace(re.escape(GROUP), "[^_]+")
        return re.fullmatch(pattern, column) is not None


def _aggregate() -> list[Outcome]:
    def a(name: str, unit: str, meaning: str, **kw) -> Outcome:
        return Outcome(name, "aggregate", unit, meaning, **kw)

    rows = [
        a(
            "step",
            "quarter, 0 = policy start",
            "policy quarter of the row",
            identifier=True,
            type=INTEGER,
        ),
        a("firms", "firms", "live firms", type=INTEGER),
        a("employment", "workers", "workers of all live firms", type=INTEGER),
        a("sales", MONEY, "sales of all firms, upstream suppliers' input sales included"),
        a("value_added", MONEY, "value added: sales - materials - commissions paid + earned"),
        a("va_per_worker", "wage units per worker per quarter", "value added / employment"),
        a(
            "market_share",
            SHARE,
            "share of all final demand (value) won by the model's firms against outside "
            "competitors",
        ),
        a(
            "demand",
            MONEY,
            "final demand of every product x segment market (value, shocks applied): what all "
            "sellers can sell at most; against a paired twin, its change is market growth",
        ),
        a(
            "outside_sales",
            MONEY,
            "what outside competitors sold in the model's markets: against a paired twin, a fall "
            "is sales the model's firms took from them",
        ),
    ]
    rows += [
        a(
            f"market_share_{segment}",
            SHARE,
            f"market share in the {segment} segment, demand-weighted over products",
        )
        for segment in SEGMENTS
    ]
    rows += [
        a("export_share", SHARE, "export sales / final sales (sales of producers and traders)"),
        a("entries", "firms per quarter", "firms that entered this quarter", type=INTEGER),
        a("exits", "firms per quarter", "firms that exited this quarter", type=INTEGER),
        a("survival", SHARE, "founding firms (alive at policy start) still alive"),
        a(
            "productivity_mean",
            "output units per worker per quarter",
            "mean productivity of live firms (0 when none)",
        ),
        a(
            "productivity_spread",
            "log points (standard deviation)",
            "standard deviation across live firms of log productivity (0 when none)",
        ),
        a("quality_mean", "index 0-1", "mean product quality of live firms (0 when none)"),
        a(
            "vertical_linkage",
            SHARE,
            "producers' inputs bought from suppliers in their cluster / inputs they need",
        ),
        a(
            "horizontal_density",
            "share 0-1 of possible pairs",
            "cooperation ties / pairs of firms in the same cluster",
        ),
        a("member_share", SHARE, "live firms that are association members"),
        a("joint_action", "index 0-1", "clusters' joint action, weighted by their firms"),
        a(
            "coordinators_emergent",
            "clusters",
            "clusters with an emergent coordinator",
            type=INTEGER,
        ),
        a(
            "coordinators_appointed",
            "clusters",
            "clusters with an appointed coordinator",
            type=INTEGER,
        ),
        a(
            "support",
            MONEY,
            "support spent on clusters this quarter, delivery leakage included "
            "(budget_delivered + budget_leaked)",
        ),
        a(
            "budget_spent",
            "wage units, cumulative since policy start",
            "budget spent since policy start: support (delivery leakage included) and appointed "
            "coordinators' running cost",
        ),
        a(
            "budget_available",
            MONEY,
            "budget this quarter: budget_per_quarter + what the last quarter carried (0 without "
            "a policy) = delivered + leaked + coordinators + unspent",
        ),
        a("budget_delivered", MONEY, "public money firms received this quarter"),
        a("budget_leaked", MONEY, "budget lost in delivery this quarter (low regional capacity)"),
        a(
            "budget_coordinators",
            MONEY,
            "appointed coordinators' running cost paid this quarter",
        ),
        a(
            "budget_unspent",
            MONEY,
            "budget left unspent this quarter: allocated to no cluster or not taken up "
            "(carried or lapsed, by policy.unspent)",
        ),
        a(
            "budget_carried",
            MONEY,
            "unspent budget carried to the next quarter (0 when policy.unspent is lapse)",
        ),
        a(
            "supported_clusters",
            "clusters",
            "clusters that received support this quarter",
            type=INTEGER,
        ),
        a(
            "support_gini",
            "Gini coefficient 0-1",
            "inequality of cumulative support across clusters",
        ),
        a("share_unsupported", SHARE, "clusters never supported since policy start"),
        a(
            "takeup_rate",
            SHARE,
            "firm-instrument pairs received / offered since policy start, all four "
            "instruments (offered: each firm of a cluster whose pot for the instrument is "
            "positive; NaN before any offer)",
        ),
        a(
            "small_producer_va_share",
            SHARE,
            "value added of producers with fewer than 20 workers / all value added",
        ),
    ]
    rows += [
        a(f"clusters_{kind}", "clusters", f"clusters of type {kind}", type=INTEGER)
        for kind in CLUSTER_TYPES
    ]
    return rows


def _cluster() -> list[Outcome]:
    def c(name: str, unit: str, meaning: str, **kw) -> Outcome:
        return Outcome(name, "cluster", unit, meaning, **kw)

    ident = {"identifier": True}
    return [
        c("step", "quarter, 0 = policy start", "policy quarter of the row", **ident, type=INTEGER),
        c("cluster", "index 0 .. clusters - 1", "the cluster's position", **ident, type=INTEGER),
        c(
            "name",
            "text",
            "the cluster's name (named clusters' own, else product-number)",
            **ident,
            type=TEXT,
        ),
        c(
            "product",
            "code: index into world.products",
            "the cluster's product (cluster_table() gives its name)",
            **ident,
            type=CATEGORY,
        ),
        c("region", "index 0 .. regions - 1", "the cluster's region", **ident, type=CATEGORY),
        c("firms", "firms", "live firms in the cluster", type=INTEGER),
        c("employment", "workers", "workers of the cluster's firms", type=INTEGER),
        c("sales", MONEY, "sales of the cluster's firms, upstream input sales included"),
        c("value_added", MONEY, "value added of the cluster's firms"),
        c("va_per_worker", "wage units per worker per quarter", "value added / employment"),
        c("export_share", SHARE, "export sales / final sales of the cluster's firms"),
        c(
            "productivity_mean",
            "output units per worker per quarter",
            "mean productivity of the cluster's firms (0 when none)",
        ),
        c("vertical_linkage", SHARE, "producers' inputs bought inside the cluster / inputs needed"),
        c(
            "horizontal_density",
            "share 0-1 of possible pairs",
            "cooperation ties / pairs of the cluster's firms",
        ),
        c("members", "firms", "association members", type=INTEGER),
        c("joint_action", "index 0-1", "joint action of the cluster's association"),
        c(
            "coordinator",
            "code: see sim.scenario.codes.COORDINATOR_KINDS",
            "kind of coordinator (none, emergent, appointed)",
            type=CATEGORY,
        ),
        c(
            "selected",
            "flag 0/1",
            "1 when on the planner's list of selected clusters now",
            type=FLAG,
        ),
        c("support", MONEY, "support spent on the cluster this quarter, leakage included"),
        c(
            "support_total",
            "wage units, cumulative since policy start",
            "support spent on the cluster since policy start",
        ),
        c(
            "cluster_type",
            "code: see sim.scenario.codes.CLUSTER_TYPES",
            "typology: dormant, active, dynamic, advanced",
            type=CATEGORY,
        ),
    ]


# Aggregate columns whose final-year mean is a summary outcome (``sim.model.metrics.summarise``)
FINAL_YEAR_MEANS: tuple[str, ...] = (
    "value_added",
    "va_per_worker",
    "market_share",
    "demand",
    "outside_sales",
    "export_share",
    "employment",
    "firms",
    "survival",
    "productivity_mean",
    "productivity_spread",
    "vertical_linkage",
    "horizontal_density",
    "joint_action",
    "support_gini",
    "share_unsupported",
    "takeup_rate",
    "small_producer_va_share",
)


def _summary(aggregate: list[Outcome]) -> list[Outcome]:
    def s(name: str, unit: str, meaning: str, **kw) -> Outcome:
        return Outcome(name, "summary", unit, meaning, **kw)

    by_name = {o.name: o for o in aggregate}
    rows = [
        s(name, by_name[name].unit, f"final-year mean (last 4 steps) of: {by_name[name].meaning}")
        for name in FINAL_YEAR_MEANS
    ]
    rows += [
        s(
            "value_added_growth",
            "growth rate (ratio - 1)",
            "final-year mean value added / value added at policy start - 1",
        ),
        s(
            "cumulative_value_added",
            "wage units",
            "value added summed over policy quarters 1 .. end",
        ),
        s(
            "budget_spent",
            "wage units",
            "budget spent over the run: support (leakage included) and appointed coordinators' "
            "running cost",
        ),
        s("exits_total", "firms", "exits over policy quarters 1 .. end", type=INTEGER),
        s("entries_total", "firms", "entries over policy quarters 1 .. end", type=INTEGER),
    ]
    rows += [
        s(
            f"clusters_{kind}",
            "clusters",
            f"clusters of type {kind} at the last step",
            type=INTEGER,
        )
        for kind in CLUSTER_TYPES
    ]
    rows += [
        s(
            "shock_depth",
            "share of pre-shock sales",
            "1 - sales at the trough after the first shock / mean sales of the 4 quarters "
            "before it",
            condition=SHOCK,
        ),
        s(
            "recovery_quarters",
            "quarters",
            "quarters from the first shock until sales regain 90% of the pre-shock level "
            "(NaN when the run ends first)",
            condition=SHOCK,
        ),
        s(
            "shock_exits",
            "firms",
            "exits in the 8 quarters from the first shock",
            condition=SHOCK,
            type=INTEGER,
        ),
    ]
    return rows


def _groups() -> list[Outcome]:
    def g(name: str, level: str, unit: str, meaning: str, **kw) -> Outcome:
        return Outcome(name, level, unit, meaning, condition=GROUPS, **kw)

    return [
        g(
            "<group>_value_added",
            "aggregate",
            MONEY,
            "value added of the group's clusters (a named cluster's own)",
        ),
        g(
            "<group>_employment",
            "aggregate",
            "workers",
            "workers of the group's clusters",
            type=INTEGER,
        ),
        g(
            "<group>_firms",
            "aggregate",
            "firms",
            "live firms in the group's clusters",
            type=INTEGER,
        ),
        g(
            "<group>_support",
            "aggregate",
            MONEY,
            "support spent on the group's clusters this quarter (designated and other only)",
        ),
        g(
            "<group>_joint_action",
            "aggregate",
            "index 0-1",
            "joint action of the group's clusters, weighted by their firms",
        ),
        g(
            "<group>_export_share",
            "aggregate",
            SHARE,
            "export share of a named cluster (named clusters only)",
        ),
        g(
            "<group>_value_added_growth",
            "summary",
            "growth rate (ratio - 1)",
            "final-year mean of the group's value added / at policy start - 1 (NaN from 0)",
        ),
        g(
            "<group>_employment_growth",
            "summary",
            "growth rate (ratio - 1)",
            "final-year mean of the group's employment / at policy start - 1 (NaN from 0)",
        ),
        g(
            "<group>_firms_growth",
            "summary",
            "growth rate (ratio - 1)",
            "final-year mean of the group's firms / at policy start - 1 (NaN from 0)",
        ),
        g(
            "<group>_support_total",
            "summary",
            "wage units",
            "support spent on the group's clusters over the run (designated and other only)",
        ),
        g(
            "<group>_cumulative_va",
            "summary",
            "wage units",
            "the group's value added summed over policy quarters 1 .. end",
        ),
        g(
            "designated_count",
            "summary",
            "clusters",
            "clusters the top-down rule designates (the designated group's size)",
            type=INTEGER,
        ),
    ]


_AGGREGATE = _aggregate()
OUTCOMES: tuple[Outcome, ...] = (*_AGGREGATE, *_cluster(), *_summary(_AGGREGATE), *_groups())
BY_LEVEL: dict[str, dict[str, Outcome]] = {
    level: {o.name: o for o in OUTCOMES if o.level == level} for level in LEVELS
}


def outcomes(
    level: str, *, identifiers: bool = True, conditions: tuple[str, ...] = ()
) -> tuple[Outcome, ...]:
    """The declared outcomes of a level in order: those always returned, plus those returned
    under any of ``conditions`` (SHOCK, GROUPS); identifiers unless ``identifiers=False``."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {LEVELS}")
    return tuple(
        o
        for o in BY_LEVEL[level].values()
        if (identifiers or not o.identifier) and (not o.condition or o.condition in conditions)
    )


def names(
    level: str, *, identifiers: bool = True, conditions: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The declared names of a level in order (see ``outcomes``)."""
    return tuple(o.name for o in outcomes(level, identifiers=identifiers, conditions=conditions))


def lookup(name: str, level: str) -> Outcome | None:
    """The outcome a column or key is: its own entry, else the family it belongs to."""
    found = BY_LEVEL[level].get(name)
    if found is not None:
        return found
    return next((o for o in BY_LEVEL[level].values() if o.family and o.matches(name)), None)


def label(name: str, level: str = "aggregate") -> str:
    """``meaning (unit)`` of a declared outcome, for axis titles; the bare name if undeclared."""
    found = lookup(name, level)
    return name if found is None else f"{found.meaning} ({found.unit})"
