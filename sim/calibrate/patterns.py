"""Pattern-oriented validation: does the default calibration reproduce the brief's stylized facts?

Each pattern is a named, quantified check: a pure function from simulated data to an observed
figure, a target taken from the model brief (never from model output) and pass/fail. Failures are
findings, so ``make validate`` exits non-zero only when something breaks, not when a pattern
fails. Comparisons against a counterfactual (no shock, no policy) use the same seed, so both runs
share the world and differ only by the treatment (common random numbers).

Run: ``python -m sim.calibrate.patterns [--seeds N] [--out results/validation]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.codes import DOWNSTREAM

SMALL = 20  # workers: the brief's small-firm threshold
JEPARA_SMALL_PRODUCER_SHARE = 0.036  # brief fact 3


@dataclass
class Check:
    name: str
    fact: str
    observed: float
    target: str
    passed: bool
    detail: str
    observed_text: str = ""

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        return f"[{status}] {self.name}: observed {self.observed_text} (target {self.target})"


def skewness(values) -> float:
    x = np.asarray(values, dtype=float)
    sd = x.std()
    return float(((x - x.mean()) ** 3).mean() / sd**3) if sd > 0 else 0.0


# ---- pure checks on data ----------------------------------------------------------------------
def check_firm_size(workers: np.ndarray) -> Check:
    """Fact 1: right-skewed firm sizes, most firms below 20 workers (Jepara 2010: 92% small)."""
    share = float((np.asarray(workers) < SMALL).mean())
    skew = skewness(workers)
    return Check(
        "firm_size_skew",
        "1. Right-skewed firm sizes: most firms have fewer than 20 workers.",
        share,
        "share < 20 workers >= 0.85 and skewness > 1",
        share >= 0.85 and skew > 1,
        "share of firms with < 20 workers at policy start; skewness of workers per firm",
        f"{share:.3f} (skewness {skew:.2f})",
    )


def check_cluster_size(sizes: np.ndarray, types: np.ndarray, export_share: np.ndarray) -> Check:
    """Fact 2: many dormant clusters, a few large export clusters."""
    sizes, types, export_share = map(np.asarray, (sizes, types, export_share))
    skew = skewness(sizes)
    dormant = float((types == 0).mean())
    exporters = export_share >= 0.25
    export_frac = float(exporters.mean())
    larger = bool(exporters.any() and np.median(sizes[exporters]) > np.median(sizes))
    passed = skew > 1 and dormant >= 0.3 and 0.01 <= export_frac <= 0.25 and larger
    return Check(
        "cluster_size_skew",
        "2. Right-skewed cluster sizes: many dormant clusters, a few large export clusters.",
        skew,
        "size skewness > 1, dormant >= 30%, export clusters (export share >= 25%) 1-25% of "
        "clusters and larger than the median",
        passed,
        "at policy start, no policy",
        f"skewness {skew:.2f}, dormant {dormant:.0%}, export clusters {export_frac:.0%}"
        f"{' (larger than median)' if larger else ' (not larger than median)'}",
    )


def check_small_producer_share(share: float, firm_share: float) -> Check:
    """Fact 3: small producers capture a small share of value added (Jepara ~3.6%)."""
    lo, hi = JEPARA_SMALL_PRODUCER_SHARE / 2, JEPARA_SMALL_PRODUCER_SHARE * 2
    return Check(
        "small_producer_va_share",
        "3. Small producers capture a small share of value added where buyers drive the chain "
        "(Jepara: ~3.6%).",
        share,
        f"within a factor 2 of 3.6%: {lo:.1%}-{hi:.1%}",
        lo <= share <= hi,
        "value added of producers with < 20 workers / all value added, last year, no policy",
        f"{share:.1%} (while {firm_share:.0%} of firms)",
    )


def check_takeup_employment(takeup: float, employment_effect: float) -> Check:
    """Fact 4: low take-up; little employment effect in non-dynamic clusters under top-down."""
    passed = takeup <= 0.5 and abs(employment_effect) <= 0.05
    return Check(
        "low_takeup_small_employment_effect",
        "4. Low programme take-up; little employment effect in non-dynamic clusters under "
        "top-down programmes.",
        takeup,
        "take-up <= 50% and |employment effect| <= 5 points",
        passed,
        "top-down take-up; employment growth of designated clusters that were not dynamic at "
        "the start, top-down minus no policy on the same seed",
        f"take-up {takeup:.0%}, employment effect {100 * employment_effect:+.1f} points",
    )


def check_joint_action(diff: np.ndarray, shock_index: int, pre_level: float) -> Check:
    """Fact 5: joint action rises in a crisis and fades afterwards (diff = shock - no shock)."""
    diff = np.asarray(diff, dtype=float)
    after = diff[shock_index : shock_index + 8]
    peak = float(after.max()) if after.size else 0.0
    late = float(diff[-4:].mean())
    rises = peak > max(0.1 * pre_level, 1e-3)
    fades = late < 0.5 * peak
    return Check(
        "joint_action_crisis",
        "5. Joint action rises in crises and fades afterwards.",
        peak,
        "peak rise within 8 quarters > 10% of the pre-shock level; last-year rise < half the peak",
        rises and fades,
        "joint action, 50% export shock minus the same seed without shock",
        f"peak rise {peak:.4f} (pre-shock level {pre_level:.4f}), last year {late:.4f}",
    )


def check_shock(excess_exits: dict[float, float], recovery: dict[float, float]) -> Check:
    """Fact 6: export shocks of 30-85% cause exit and slow recovery."""
    more_exits = all(v > 0 for v in excess_exits.values())
    big = max(recovery)
    slow = not np.isfinite(recovery[big]) or recovery[big] >= 4
    text = "; ".join(
        f"{size:.0%}: excess exits {excess_exits[size]:+.1f}, recovery "
        + ("not within run" if not np.isfinite(recovery[size]) else f"{recovery[size]:.0f} q")
        for size in sorted(excess_exits)
    )
    return Check(
        "export_shock_exit_recovery",
        "6. Export shocks of 30-85% cause exit and slow recovery.",
        float(excess_exits[big]),
        "more exits than without the shock at every size; >= 4 quarters to recover 90% of sales "
        "after the largest",
        more_exits and slow,
        "exits in the 8 quarters after the shock minus the same seed without shock; median "
        "quarters to 90% of pre-shock sales",
        text,
    )


def check_heterogeneity(productivity: np.ndarray, stage: np.ndarray, value_added: np.ndarray):
    """Fact 7: heterogeneous firms; leading firms and traders act as gatekeepers."""
    p10, p90 = np.quantile(productivity, [0.1, 0.9])
    ratio = float(p90 / p10) if p10 > 0 else float("inf")
    traders = np.asarray(stage) == DOWNSTREAM
    total = float(np.sum(value_added))
    trader_va = float(np.sum(np.asarray(value_added)[traders]) / total) if total > 0 else 0.0
    trader_firms = float(traders.mean())
    leverage = trader_va / trader_firms if trader_firms > 0 else 0.0
    return Check(
        "heterogeneity_gatekeepers",
        "7. Heterogeneous firms; leading firms and traders act as gatekeepers.",
        leverage,
        "productivity p90/p10 >= 1.5 and traders' value added share >= 2x their firm share",
        ratio >= 1.5 and leverage >= 2,
        "at policy start, no policy",
        f"p90/p10 {ratio:.2f}; traders {trader_firms:.0%} of firms, {trader_va:.0%} of value added",
    )


# ---- simulation ------------------------------------------------------------------------------
def _shocked(scenario, size: float, step: int):
    from sim.scenario.schema import Shock

    market = scenario.market.model_copy(
        update={"shocks": [Shock(step=step, size=size, segments=["export"])]}
    )
    return scenario.model_copy(update={"market": market})


def run_validation(seeds: int = 8, steps: int = 40, shock_step: int = 12) -> list[Check]:
    """Simulate the default world (common random numbers across treatments) and run all checks."""
    from sim.model import ClusterModel
    from sim.model.groups import top_down_designation
    from sim.scenario.files import load_scenario

    no_policy, top_down = load_scenario("no_policy"), load_scenario("top_down")
    start: dict[str, list] = {k: [] for k in ("workers", "prod", "stage", "va")}
    clusters: dict[str, list] = {k: [] for k in ("size", "type", "export")}
    small_share, small_firms, takeup, employment = [], [], [], []
    joint, joint_pre = [], []
    exits: dict[float, list] = {0.3: [], 0.85: []}
    recovery: dict[float, list] = {0.3: [], 0.85: []}

    def run(scenario, seed):
        model = ClusterModel(scenario=scenario, seed=seed)
        designated = top_down_designation(model, 25)
        for _ in range(steps):
            model.step()
        return model, designated, model.results()

    for i in range(seeds):
        seed = 7001 + i
        base, designated, base_res = run(no_policy, seed)
        first = base_res.clusters[base_res.clusters["step"] == 0]
        # firm state at policy start is rebuilt from a fresh model (same seed, same burn-in)
        fresh = ClusterModel(scenario=no_policy, seed=seed)
        f = fresh.firms
        alive = f.alive
        start["workers"].append(f.workers[alive])
        start["prod"].append(f.productivity[alive])
        start["stage"].append(f.stage[alive])
        start["va"].append(f.value_added[alive])
        clusters["size"].append(first["firms"].to_numpy())
        clusters["type"].append(first["cluster_type"].to_numpy())
        clusters["export"].append(first["export_share"].to_numpy())
        small_share.append(base_res.summary["small_producer_va_share"])
        small_firms.append(float(((f.stage[alive] == 1) & (f.workers[alive] < SMALL)).mean()))
        _, _, td_res = run(top_down, seed)
        takeup.append(td_res.summary["takeup_rate"])
        nondynamic = designated & (first["cluster_type"].to_numpy() < 2)
        employment.append(
            _group_growth(td_res.clusters, nondynamic)
            - _group_growth(base_res.clusters, nondynamic)
        )
        _, _, shock_res = run(_shocked(no_policy, 0.5, shock_step), seed)
        diff = (
            shock_res.aggregate["joint_action"].to_numpy()
            - base_res.aggregate["joint_action"].to_numpy()
        )
        joint.append(diff)
        joint_pre.append(
            float(base_res.aggregate["joint_action"].iloc[shock_step - 4 : shock_step].mean())
        )
        for size in exits:
            _, _, res = run(_shocked(no_policy, size, shock_step), seed)
            window = slice(shock_step, shock_step + 8)
            exits[size].append(
                float(res.aggregate["exits"].iloc[window].sum())
                - float(base_res.aggregate["exits"].iloc[window].sum())
            )
            recovery[size].append(res.summary.get("recovery_quarters", np.nan))
    return [
        check_firm_size(np.concatenate(start["workers"])),
        check_cluster_size(
            np.concatenate(clusters["size"]),
            np.concatenate(clusters["type"]),
            np.concatenate(clusters["export"]),
        ),
        check_small_producer_share(float(np.mean(small_share)), float(np.mean(small_firms))),
        check_takeup_employment(float(np.nanmean(takeup)), float(np.nanmean(employment))),
        check_joint_action(np.mean(joint, axis=0), shock_step, float(np.mean(joint_pre))),
        check_shock(
            {s: float(np.mean(v)) for s, v in exits.items()},
            {s: _median_censored(v) for s, v in recovery.items()},
        ),
        check_heterogeneity(
            np.concatenate(start["prod"]),
            np.concatenate(start["stage"]),
            np.concatenate(start["va"]),
        ),
    ]


def _group_growth(clusters: pd.DataFrame, mask: np.ndarray) -> float:
    """Employment of the masked clusters, last year mean over the start, minus one."""
    chosen = clusters[mask[clusters["cluster"].to_numpy()]]
    by_step = chosen.groupby("step")["employment"].sum().sort_index()
    return float(by_step.tail(4).mean() / by_step.iloc[0] - 1) if len(by_step) else np.nan


def _median_censored(values: list[float]) -> float:
    """Median with not-recovered runs (NaN) counted as slowest; NaN if most never recover."""
    x = np.asarray(values, dtype=float)
    x = np.where(np.isfinite(x), x, np.inf)
    m = float(np.median(x))
    return m if np.isfinite(m) else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.calibrate.patterns", description=__doc__)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("results/validation"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    checks = run_validation(seeds=args.seeds, steps=args.steps)
    seconds = time.perf_counter() - started
    for check in checks:
        print(check.line())
    passed = sum(c.passed for c in checks)
    print(f"{passed} of {len(checks)} patterns reproduced ({seconds:.0f} s, {args.seeds} seeds)")
    args.out.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "seeds": args.seeds,
        "steps": args.steps,
        "seconds": round(seconds, 1),
        "passed": passed,
        "checks": [asdict(c) for c in checks],
    }
    try:
        from sim.runner.manifest import environment

        env = environment()
        payload["git revision"] = (env["git"].get("revision") or "unknown")[:12]
        payload["model version"] = env["model_version"]
    except Exception:  # noqa: BLE001 (provenance is best effort)
        pass
    (args.out / "validation.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
