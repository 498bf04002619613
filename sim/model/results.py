"""The plain result of one run: outcome tables, no model attached (a leaf, picklable)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class RunResult:
    """Outcomes of one run: per-step aggregate, per-step per-cluster, and headline summary."""

    aggregate: pd.DataFrame  # one row per policy quarter (step 0 = policy start)
    clusters: pd.DataFrame  # one row per (step, cluster)
    summary: dict[str, float]  # headline outcomes of the run (declared in sim.model.outcomes)
