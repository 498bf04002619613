"""Designated versus other clusters: a run function that adds group outcomes, and its sweep entry.

`klaster sweep` keeps only the aggregate per-step table, but the Indonesian experiment asks how
the 25 designated clusters fare against the rest, under every regime. Designation is defined by
the top-down rule in every regime (known potential: size and tradition, forced named clusters
first), so the same clusters are tracked whether or not the regime actually supports them.

Run: ``python -m sim.report.groups experiments/indonesia.yaml --out results/indonesia``. It uses
the runner's plan, seeds, store and manifest unchanged and only swaps the run function.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenario import Scenario
from sim.simulate import RunResult

DEFAULT_DESIGNATED = 25  # the article: Depperindag's 25 clusters
GROUP_COLUMNS = ("value_added", "employment", "firms", "support", "joint_action")


def _z(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)


def top_down_designation(model, k: int) -> np.ndarray:
    """The clusters a top-down plan designates now: forced ones, then by known potential.

    Mirrors ``sim.government.selection_score`` with ``market_attention = 0`` (the noise term is
    then multiplied by zero), so in a top-down run it equals the model's own first selection.
    """
    c = model.clusters
    size = np.bincount(model.firms.cluster[model.firms.alive], minlength=c.count)
    score = _z(_z(np.log1p(size)) + _z(c.tradition))
    score = np.where(c.forced_designation, np.inf, score)
    chosen = np.argsort(-score, kind="stable")[: min(k, c.count)]
    mask = np.zeros(c.count, dtype=bool)
    mask[chosen] = True
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
    """``sim.simulate`` plus group columns (per step) and group summaries (per run)."""
    from sim.model import ClusterModel

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


def main(argv: list[str] | None = None) -> int:
    """Sweep an experiment with the group run function (same plan, seeds, store, manifest)."""
    from sim.input_errors import InputError
    from sim.runner.executors import ExecutorSpec, validate
    from sim.runner.plan import make_plan
    from sim.runner.sweep import run_sweep

    parser = argparse.ArgumentParser(prog="python -m sim.report.groups", description=__doc__)
    parser.add_argument("experiment")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--executor", default="process", choices=("serial", "process", "dask"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        spec = ExecutorSpec(kind=args.executor, workers=args.workers, scheduler=None)
        validate(spec)
        plan = make_plan(args.experiment)
        out = args.out or Path("results") / str(plan.experiment.name)
        report = run_sweep(
            plan, out, spec, run_fn=simulate_groups, quiet=args.quiet, command=sys.argv
        )
    except InputError as exc:
        sys.stderr.write(f"groups: error: {exc}\n")
        return 2
    print(
        f"{plan.experiment.name}: {report.planned} runs: {report.succeeded} ran, "
        f"{report.skipped} already done, {report.failed} failed ({report.seconds:.1f} s) -> {out}"
    )
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
