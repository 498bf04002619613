"""The runs of one seed that the statistics read: one record per seed.

A record holds what the statistics of ``sim.calibrate.patterns`` need from the runs of one seed:
firm and cluster state at policy start, and paired differences (a shock, a programme) against
the same seed without it (common random numbers: both runs share the world and differ only by
the treatment). Only the run groups the chosen statistics need are run:

- ``world``: the default world without policy (facts 1, 2, 3, 7; the baseline of 4, 5, 6)
- ``top_down``: the top-down programme on the same world (fact 4)
- ``crisis``: a 50% export shock (fact 5)
- ``shocks``: 30% and 85% export shocks (fact 6)
- ``indonesia``: the Indonesian scenario, Cirebon's 2005 shock and Jepara (historical targets)

Parameter values under calibration apply to every run of the seed, as dotted scenario keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.runner.worker import release_models
from sim.scenario.files import apply_overrides, build_scenario, load_raw, resolve_scenario_path
from sim.scenario.schema import Scenario, Shock

RUN_GROUPS = ("world", "top_down", "crisis", "shocks", "indonesia")
NEEDS_BASELINE = {"top_down", "crisis", "shocks"}  # paired against the no-policy run
SMALL = 20
SHOCK_SIZES = {"30": 0.3, "85": 0.85}
CRISIS_SIZE = 0.5


@dataclass(frozen=True)
class Setting:
    """What every seed runs: scenarios (files or presets), fixed keys, run length, shock timing.

    world_scenario: the no-policy world of the stylized facts
    programme_scenario: the top-down programme of fact 4 (same world)
    indonesia_scenario: the Indonesian world of the historical targets
    fixed: dotted keys set in every run (e.g. a smaller world for a quick calibration)
    steps: policy quarters of the default-world runs
    shock_step: policy quarter of the default-world shocks
    historical_shock_step: quarter of Cirebon's 2005 shock in the Indonesian scenario
    """

    world_scenario: str = "no_policy"
    programme_scenario: str = "top_down"
    indonesia_scenario: str = "indonesia"
    fixed: dict[str, Any] = field(default_factory=dict)
    steps: int = 40
    shock_step: int = 12
    historical_shock_step: int = 14


def scenario_with(name: str, values: dict[str, Any], source: str) -> Scenario:
    """A scenario file or preset with dotted-key values on top, validated."""
    raw = load_raw(resolve_scenario_path(name))
    if values:
        raw = apply_overrides(raw, values)
    return build_scenario(raw, source)


def _shocked(scenario: Scenario, size: float, step: int) -> Scenario:
    market = scenario.market.model_copy(
        update={"shocks": [Shock(step=step, size=size, segments=["export"])]}
    )
    return scenario.model_copy(update={"market": market})


def _run(scenario: Scenario, seed: int, steps: int, keep_start: bool = False):
    from sim.model import ClusterModel
    from sim.model.groups import top_down_designation

    model = ClusterModel(scenario=scenario, seed=seed)
    start = None
    if keep_start:
        f = model.firms
        alive = f.alive
        start = {
            "workers": f.workers[alive].copy(),
            "productivity": f.productivity[alive].copy(),
            "stage": f.stage[alive].copy(),
            "firm_value_added": f.value_added[alive].copy(),
            "designated": top_down_designation(model, 25),
        }
    for _ in range(steps):
        model.step()
    return model.results(), start


def measure_seed(
    setting: Setting, values: dict[str, Any], seed: int, groups: frozenset[str]
) -> dict[str, Any]:
    """Run the groups of runs on one seed and collect the record the statistics read.

    setting: scenarios, fixed keys and timing
    values: dotted scenario keys -> values (the parameter set being evaluated)
    seed: the seed every run of this record shares
    groups: which run groups to run (see RUN_GROUPS)
    """
    try:
        return _measure(setting, {**setting.fixed, **values}, seed, groups)
    finally:
        # the seed's models are finished: free them, or each worker grows by every model it ran
        release_models()


def _measure(
    setting: Setting, chosen: dict[str, Any], seed: int, groups: frozenset[str]
) -> dict[str, Any]:
    record: dict[str, Any] = {"seed": seed}
    steps = setting.steps
    if groups & ({"world"} | NEEDS_BASELINE):
        world = scenario_with(setting.world_scenario, chosen, "calibration world")
        world = world.model_copy(update={"run": world.run.model_copy(update={"steps": steps})})
        base, start = _run(world, seed, steps, keep_start=True)
        first = base.clusters[base.clusters["step"] == 0]
        record.update(start)
        record["cluster_size"] = first["firms"].to_numpy()
        record["cluster_type"] = first["cluster_type"].to_numpy()
        record["cluster_export_share"] = first["export_share"].to_numpy()
        record["small_producer_va_share"] = base.summary["small_producer_va_share"]
    if "top_down" in groups:
        programme = scenario_with(setting.programme_scenario, chosen, "calibration programme")
        programme = programme.model_copy(
            update={"run": programme.run.model_copy(update={"steps": steps})}
        )
        treated, _ = _run(programme, seed, steps)
        record["takeup_rate"] = treated.summary["takeup_rate"]
        nondynamic = start["designated"] & (first["cluster_type"].to_numpy() < 2)
        record["employment_effect"] = _group_growth(treated.clusters, nondynamic) - _group_growth(
            base.clusters, nondynamic
        )
    if "crisis" in groups:
        shocked, _ = _run(_shocked(world, CRISIS_SIZE, setting.shock_step), seed, steps)
        base_joint = base.aggregate["joint_action"].to_numpy()
        record["joint_action_diff"] = shocked.aggregate["joint_action"].to_numpy() - base_joint
        record["joint_action_pre"] = float(
            base_joint[setting.shock_step - 4 : setting.shock_step].mean()
        )
        record["crisis_step"] = setting.shock_step
    if "shocks" in groups:
        shock = setting.shock_step
        exporters = export_clusters(base.clusters, shock)
        before = _firms_at(base.clusters, exporters, shock - 1)
        after = _firms_at(base.clusters, exporters, shock + 8)
        record["quarters_left"] = float(steps - shock)
        record["export_cluster_firms"] = before
        for label, size in SHOCK_SIZES.items():
            shocked, _ = _run(_shocked(world, size, shock), seed, steps)
            lost = after - _firms_at(shocked.clusters, exporters, shock + 8)
            record[f"export_firm_loss_{label}"] = lost / before if before > 0 else np.nan
            record[f"recovery_{label}"] = float(shocked.summary.get("recovery_quarters", np.nan))
    if "indonesia" in groups:
        record.update(_indonesia(setting, chosen, seed))
    return record


def _indonesia(setting: Setting, chosen: dict[str, Any], seed: int) -> dict[str, float]:
    """Cirebon and Jepara around the 2005 shock: the named clusters are clusters 0 and 1."""
    scenario = scenario_with(setting.indonesia_scenario, chosen, "calibration Indonesia")
    result, _ = _run(scenario, seed, scenario.run.steps)
    names = [n.name.lower().split()[0] for n in scenario.world.named_clusters]
    clusters = result.clusters
    out: dict[str, float] = {}
    shock = setting.historical_shock_step
    if "cirebon" in names:
        one = clusters[clusters["cluster"] == names.index("cirebon")].set_index("step")
        firms = one["firms"].astype(float)
        exports = one["export_share"] * one["sales"]
        before = exports.loc[shock - 4 : shock - 1].mean()
        out["cirebon_firms_after_year"] = _ratio(firms.get(shock + 4), firms.get(shock - 1))
        out["cirebon_exports_before"] = float(before)
        out["cirebon_exports_trough"] = float(exports.loc[shock : shock + 1].min())
    if "jepara" in names:
        one = clusters[clusters["cluster"] == names.index("jepara")].set_index("step")
        firms = one["firms"].astype(float)
        out["jepara_firm_change"] = _ratio(firms.get(shock + 20), firms.get(shock)) - 1
    return out


def export_clusters(clusters: pd.DataFrame, shock: int) -> np.ndarray:
    """Clusters selling at least a quarter abroad over the year before a shock (boolean by
    cluster index): the clusters an export shock hits, where fact 6's exits are seen."""
    year = clusters[(clusters["step"] >= shock - 4) & (clusters["step"] < shock)]
    share = year.groupby("cluster")["export_share"].mean()
    mask = np.zeros(int(clusters["cluster"].max()) + 1, dtype=bool)
    mask[share.index[share.to_numpy() >= 0.25]] = True
    return mask


def _firms_at(clusters: pd.DataFrame, mask: np.ndarray, step: int) -> float:
    """Live firms in the masked clusters at one step."""
    at = clusters[clusters["step"] == step]
    return float(at["firms"].to_numpy()[mask[at["cluster"].to_numpy()]].sum())


def _ratio(numerator, denominator) -> float:
    if numerator is None or denominator is None or not denominator > 0:
        return float("nan")
    return float(numerator / denominator)


def _group_growth(clusters: pd.DataFrame, mask: np.ndarray) -> float:
    """Employment of the masked clusters, last year mean over the start, minus one."""
    chosen = clusters[mask[clusters["cluster"].to_numpy()]]
    by_step = chosen.groupby("step")["employment"].sum().sort_index()
    return float(by_step.tail(4).mean() / by_step.iloc[0] - 1) if len(by_step) else np.nan
