"""The plain result of one run: outcome tables, no model attached (a leaf, picklable)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class ClusterRecord:
    """A run's per-cluster outcomes as the model recorded them, one array per column and step,
    and the clusters' identifiers: ``table()`` lays them out long (step, cluster, ...).

    ``RunResult.clusters`` keeps this and makes the table when first read: a sweep's worker
    never reads it, and building it (repeating the identifiers, a categorical of names,
    joining the steps) was ~1.5 ms of a ~50 ms default-world run.
    """

    order: tuple[str, ...]  # the table's columns (the registry's, identifiers first)
    names: Sequence[str]  # per cluster
    product: np.ndarray  # per cluster, product codes
    region: np.ndarray  # per cluster
    columns: dict[str, list[np.ndarray]]  # per outcome column: one array per step

    def table(self) -> pd.DataFrame:
        """One row per (step, cluster), in the order of ``order``."""
        count = len(self.product)
        steps = len(next(iter(self.columns.values()), []))
        identifiers = {
            "step": np.repeat(np.arange(steps), count),
            "cluster": np.tile(np.arange(count), steps),
            "name": pd.Categorical(np.tile(np.asarray(self.names), steps)),
            "product": np.tile(self.product, steps),
            "region": np.tile(self.region, steps),
        }
        table = {name: np.concatenate(rows) for name, rows in self.columns.items()}
        table.update(identifiers)
        return pd.DataFrame({name: table[name] for name in self.order})


@dataclass
class RunResult:
    """Outcomes of one run: per-step aggregate, per-step per-cluster, and headline summary.

    ``clusters`` may be given as a ``ClusterRecord``: the table is then made on first read.
    """

    aggregate: pd.DataFrame  # one row per policy quarter (step 0 = policy start)
    clusters: pd.DataFrame  # one row per (step, cluster)
    summary: dict[str, float]  # headline outcomes of the run (declared in sim.model.outcomes)
    error: str = ""
    traceback: str = ""
    peak_rss_mb: float = 0.0  # the worker's, after this run (the main process reads no run file)
    environment: str = ""  # the machine failed (disk full, permissions): not the run's fault


def _clusters(result: RunResult) -> pd.DataFrame:
    table = result.__dict__["_clusters"]
    if isinstance(table, ClusterRecord):
        table = result.__dict__["_clusters"] = table.table()
    return table


def _set_clusters(result: RunResult, table: pd.DataFrame | ClusterRecord) -> None:
    result.__dict__["_clusters"] = table


# A property over the dataclass field: the generated __init__, repr and eq go through it.
RunResult.clusters = property(  # type: ignore[assignment]
    _clusters, _set_clusters, doc="One row per (step, cluster); made on first read."
)
