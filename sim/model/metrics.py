"""Outcome reporters: per cluster and aggregate, every quarter, as array reductions; cluster
typology; resilience to shocks; the headline summary of a run.

Which outcomes exist, in which order, and their units and meanings: ``sim.model.outcomes``. The
reporters here compute values; their tables and keys are laid out in the registry's order."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from sim.model import outcomes
from sim.model.kernels import metrics as kernels
from sim.model.kernels.compiled import columns_of
from sim.scenario.codes import (
    CLUSTER_TYPES,
    EXPORT,
    PRODUCER,
    UPSTREAM,
)

if TYPE_CHECKING:
    from sim.model import ClusterModel

SMALL_FIRM_WORKERS = 20  # brief: small firms have fewer than 20 workers

# Column lists come from the registry (sim.model.outcomes), in its order.
CLUSTER_COLUMNS: tuple[str, ...] = outcomes.names("cluster", identifiers=False)
AGGREGATE_COLUMNS: tuple[str, ...] = outcomes.names("aggregate")
SUMMARY_KEYS: tuple[str, ...] = outcomes.names("summary", conditions=(outcomes.SHOCK,))
HEADLINE: tuple[str, ...] = outcomes.FINAL_YEAR_MEANS


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal; near 1: one gets all)."""
    values = np.sort(np.asarray(values, dtype=float))
    n, total = len(values), values.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum() / (n * total)) - (n + 1) / n)


if kernels.CLUSTER_ROW != CLUSTER_COLUMNS:
    raise RuntimeError("cluster outcomes and the registry (sim.model.outcomes) disagree")
_ROW = {name: row for row, name in enumerate(CLUSTER_COLUMNS)}


class ClusterOutcomes(NamedTuple):
    """A quarter's per-cluster outcomes (``table``: a row per ``CLUSTER_COLUMNS`` name, a
    column per cluster) and what the aggregate row is computed from: the table of cluster
    totals it sums (``totals``, rows as ``kernels.cluster_totals``), each firm's log
    productivity and small producers' value added, so no firm column is read twice."""

    table: np.ndarray
    totals: np.ndarray
    firm_log_productivity: np.ndarray
    small_producer_va: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One per-cluster outcome (a row of the table)."""
        return self.table[_ROW[name]]


def cluster_outcomes(model: ClusterModel) -> ClusterOutcomes:
    """Every per-cluster outcome for the current quarter, in one compiled call
    (``kernels.cluster_table``); ``cluster_type`` is last quarter's until
    ``classify_clusters`` writes this quarter's. Firms' log productivity is the one entry
    worked out this quarter (``firms.initialise_entrants``)."""
    f, c = model.firms, model.clusters
    ties_a, _ = model.ties.pairs()
    table, totals, small_producer_va = kernels.cluster_table(
        columns_of(f, kernels.OutcomeFirms),
        ties_a,
        columns_of(c, kernels.OutcomeClusters),
        float(model.config.firms.input_coefficient),
        (UPSTREAM, PRODUCER, EXPORT, SMALL_FIRM_WORKERS),
    )
    return ClusterOutcomes(table, totals, f.log_productivity, small_producer_va)


def classify_clusters(model: ClusterModel, outcome: ClusterOutcomes) -> np.ndarray:
    """Dormant/artisanal -> active -> dynamic -> advanced, from observable cluster traits
    (also written into ``outcome``'s table).

    Thresholds are assumed, in the spirit of the typology in the literature (Tambunan 2005).
    """
    c = model.clusters
    kind = kernels.classify(
        c.va_history,
        outcome.column("value_added"),
        c.coordinator,
        outcome.column("horizontal_density"),
        c.joint_action,
        outcome.column("export_share"),
        outcome.column("vertical_linkage"),
    )
    c.cluster_type = kind
    outcome.table[_ROW["cluster_type"]] = kind
    return kind


# where each registry column sits in the row ``kernels.aggregate_row`` writes
if sorted(kernels.AGGREGATE_ROW) != sorted(AGGREGATE_COLUMNS):
    raise RuntimeError("aggregate outcomes and the registry (sim.model.outcomes) disagree")
REGISTRY_ORDER = np.array([kernels.AGGREGATE_ROW.index(name) for name in AGGREGATE_COLUMNS])


def aggregate_outcomes(model: ClusterModel, per_cluster: ClusterOutcomes) -> np.ndarray:
    """Economy-wide outcomes for the current quarter, as one float array in the registry's
    order (``AGGREGATE_COLUMNS``).

    One compiled call (``kernels.aggregate_row``) sums and counts as numpy's ``sum`` adds and
    divides as the Python expressions did, so the row is bit for bit what ~40 numpy calls and
    a dict of Python floats made."""
    f, c, m, budget = model.firms, model.clusters, model.market, model.budget
    counts = kernels.StepCounts(
        float(model.steps),
        float(f.n_alive),
        float(model.entries_step),
        float(model.exits_step),
        float(model.founders),
        float(len(model.ties)),
        float(model.budget_spent),
        float(budget.available),
        float(budget.delivered),
        float(budget.leaked),
        float(budget.coordinators),
        float(budget.unspent),
        float(budget.carried),
        float(model.takeup_taken),
        float(model.takeup_offered),
    )
    row = kernels.aggregate_row(
        per_cluster.totals,
        float(model.config.firms.input_coefficient),
        per_cluster.small_producer_va,
        per_cluster.firm_log_productivity,
        kernels.FirmCounts(f.alive, f.uid, f.member, f.quality),
        kernels.ClusterCounts(c.joint_action, c.coordinator, c.support_step, c.support_total),
        c.cluster_type,
        model._founder_max_uid,
        kernels.MarketTables(m.inside_sales, m.outside_sales, m.effective_demand),
        counts,
    )
    return row[REGISTRY_ORDER]


def resilience(aggregate: pd.DataFrame, shock_step: int, window: int = 4) -> dict[str, float]:
    """Depth of the fall in sales after a shock and quarters until 90% of the pre-shock level.

    Recovery is NaN when the run ends first (censored), so it is never mistaken for zero.
    """
    series = aggregate.set_index("step")["sales"]
    before = series[(series.index < shock_step) & (series.index >= shock_step - window)]
    after = series[series.index >= shock_step]
    if before.empty or after.empty:
        return {
            "shock_depth": float("nan"),
            "recovery_quarters": float("nan"),
            "shock_exits": float("nan"),
        }
    level = before.mean()
    trough_step = after.idxmin()
    depth = 1 - after.min() / level
    recovered = after[(after.index >= trough_step) & (after >= 0.9 * level)]
    if after.min() >= 0.9 * level:
        quarters = 0.0
    elif recovered.empty:
        quarters = float("nan")
    else:
        quarters = float(recovered.index[0] - shock_step)
    exits = aggregate.loc[
        (aggregate["step"] >= shock_step) & (aggregate["step"] < shock_step + 8), "exits"
    ]
    return {
        "shock_depth": float(depth),
        "recovery_quarters": quarters,
        "shock_exits": float(exits.sum()),
    }


def _mean(values: np.ndarray) -> float:
    """``Series.mean()`` of float values as pandas takes it (never with bottleneck): NaN left
    out, the rest added by numpy's ``sum`` and divided by their count; NaN if none is left."""
    missing = np.isnan(values)
    count = len(values) - np.count_nonzero(missing)
    total = np.where(missing, 0.0, values).sum() if count < len(values) else values.sum()
    return float(total / count) if count > 0 else float("nan")


def _total(values: np.ndarray) -> float:
    """``Series.sum()`` of float values as pandas takes it: NaN counted as 0, numpy's ``sum``."""
    missing = np.isnan(values)
    return float(np.where(missing, 0.0, values).sum() if missing.any() else values.sum())


def summarise(aggregate: pd.DataFrame, shocks: list[int]) -> dict[str, float]:
    """Headline outcomes of a run: final-year means, cumulative value added, budget, resilience.

    The columns are read as arrays and reduced as pandas reduces a column (``_mean``,
    ``_total``): the same numbers at a tenth of the cost (~0.4 ms a run)."""

    values = aggregate.to_numpy(dtype=float)  # every column is float: one block, no copy
    position = {name: i for i, name in enumerate(aggregate.columns)}

    def column(name: str) -> np.ndarray:
        return values[:, position[name]]

    summary = {f"{name}": _mean(column(name)[-4:]) for name in HEADLINE}
    value_added = column("value_added")
    summary["value_added_growth"] = float(_mean(value_added[-4:]) / max(value_added[0], 1e-12) - 1)
    summary["cumulative_value_added"] = _total(value_added[1:])
    summary["budget_spent"] = float(column("budget_spent")[-1])
    summary["exits_total"] = _total(column("exits")[1:])
    summary["entries_total"] = _total(column("entries")[1:])
    for name in CLUSTER_TYPES:
        summary[f"clusters_{name}"] = float(column(f"clusters_{name}")[-1])
    if shocks:
        summary.update(resilience(aggregate, shocks[0]))
    if not summary.keys() <= set(SUMMARY_KEYS):
        raise RuntimeError("summary outcomes and the registry (sim.model.outcomes) disagree")
    return {name: summary[name] for name in SUMMARY_KEYS if name in summary}
