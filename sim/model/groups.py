"""Designated versus other clusters: a run function that adds group outcomes.

A sweep keeps only the aggregate per-step table, but the Indonesian experiment asks how the 25
designated clusters fare against the rest, under every regime. Designation is defined by the
top-down rule in every regime (known potential: size and tradition, forced named clusters
first), so the same clusters are tracked whether or not the regime actually supports them.

An experiment file asks for these outcomes with ``outcomes: groups``
(``experiments/indonesia.yaml``); the run key includes that choice, so the two kinds of run
never share a result file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.government import known_potential, rank
from sim.model.model import ClusterModel
from sim.model.results import RunResult
from sim.scenario.schema import Scenario

DEFAULT_DESIGNATED = 25  # the article: Depperindag's 25 clusters
GROUP_COLUMNS = ("value_added", "employment", "firms", "support", "joint_action")


def top_down_designation(model: ClusterModel, k: int) -> np.ndarray:
    """The clusters a top-down plan designates now: forced ones, then by known potential.

    The planner's own rule (``sim.model.government.rank`` of ``known_potential``) with no
    market attention, so in a top-down run it equals the model's first selection.
    """
    c = model.clusters
    size = np.bincount(model.firms.cluster[model.firms.alive], minlength=c.count)
    mask = np.zeros(c.count, dtype=bool)
    mask[rank(model, known_potential(model, size), k)] = True
    return mask


def group_tables(clusters: pd.DataFrame, designated: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Per-step sums for designated and other clusters, and per-step values of named clusters."""
    frame = clusters.copy()
    frame["designated"] = designated[frame["cluster"].to_numpy()]
    # joint action is a cluster-level share: weight it by firms when aggregating
    frame["joint_action_w"] = frame["joint_action"] * frame["firms"]
    out = pd.DataFrame({"step": np.sort(frame["step"].unique()).astype(float)})
    for label, mask in (("designated", frame["designated"]), ("other", ~frame["designated"])):
        sums = frame[mask].groupby("step")[list(GROUP_COLUMNS) + ["joint_action_w"]].sum()
        for column in GROUP_COLUMNS:
            if column == "joint_action":
                values = sums["joint_action_w"] / sums["firms"].clip(lower=1)
            else:
                values = sums[column]
            out[f"{label}_{column}"] = values.reindex(out["step"].astype(int)).to_numpy()
    for i, name in enumerate(names):
        key = name.lower().split()[0]
        one = frame[frame["cluster"] == i].set_index("step")
        for column in ("value_added", "employment", "firms", "export_share", "joint_action"):
            out[f"{key}_{column}"] = one[column].reindex(out["step"].astype(int)).to_numpy()
    return out


def group_summary(groups: pd.DataFrame) -> dict[str, float]:
    """Run-level group outcomes: growth of value added and employment, cumulative support."""
    first, last_year = groups.iloc[0], groups.tail(4).mean()
    summary: dict[str, float] = {}
    prefixes = sorted({c.split("_", 1)[0] for c in groups.columns if c != "step"})
    for prefix in prefixes:
        for column in ("value_added", "employment", "firms"):
            name = f"{prefix}_{column}"
            if name in groups:
                start = float(first[name])
                summary[f"{name}_growth"] = (
                    float(last_year[name]) / start - 1 if start > 0 else float("nan")
                )
        if f"{prefix}_support" in groups:
            summary[f"{prefix}_support_total"] = float(groups[f"{prefix}_support"].sum())
        if f"{prefix}_value_added" in groups:
            summary[f"{prefix}_cumulative_va"] = float(
                groups[f"{prefix}_value_added"].iloc[1:].sum()
            )
    return summary


def simulate_groups(scenario: Scenario, seed: int) -> RunResult:
    """``sim.model.simulate`` plus group columns (per step) and group summaries (per run)."""
    model = ClusterModel(scenario=scenario, seed=seed)
    k = scenario.policy.selected_clusters or DEFAULT_DESIGNATED
    designated = top_down_designation(model, k)
    for _ in range(scenario.run.steps):
        model.step()
    result = model.results()
    names = [n.name for n in scenario.world.named_clusters]
    groups = group_tables(result.clusters, designated, names)
    aggregate = result.aggregate.merge(groups, on="step", how="left")
    summary = dict(result.summary)
    summary.update(group_summary(groups))
    summary["designated_count"] = float(designated.sum())
    return RunResult(aggregate=aggregate, clusters=result.clusters, summary=summary)
