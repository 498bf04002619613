"""``make bench``: the cluster model at ~1k / 10k / 100k firms for every regime, against Mesa's
BoltzmannWealth and the machine's limit probe measured in the same invocation; default-world runs
against the start-of-issue-12 revision; cold ``klaster run`` and sweep throughput.

Prints a table and writes bench/latest.json. Each model size runs in a fresh process so its peak
memory is its own. The machine is shared: compare the ratios of one run, not runs across days.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.baseline import (
    BASELINE_REVISION,
    ROOT,
    baseline_tree,
    compare_default_world,
    limit_probe,
)
from bench.commands import cold_run, first_run, sweep_throughput
from bench.reference import boltzmann
from sim.scenario.presets import PRESETS

REGIMES = PRESETS
# label -> world.scale, repetitions, steps per repetition (fewer at 100k to stay in budget)
SIZES: dict[str, tuple[float, int, int]] = {
    "1k": (0.45, 5, 8),
    "10k": (4.0, 5, 8),
    "100k": (35.0, 3, 4),
}
PROBE_SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}  # the limit probe's sizes
OUT = Path(__file__).with_name("latest.json")


def measure_size(regime: str, scale: float, reps: int, steps: int, tree: Path = ROOT) -> dict:
    """One size and regime in a fresh process, on the model in ``tree`` (this checkout or the
    baseline revision's; the bench's own modules come from this checkout)."""
    script = ROOT / "bench" / "model_size.py"
    command = [sys.executable, str(script), regime, str(scale), str(reps), str(steps)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(tree), str(ROOT)]))}
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tree, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "sim"], capture_output=True, text=True
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one regime, no 100k, no sweep")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not time the start-of-issue-12 revision at each size (default-world runs still)",
    )
    args = parser.parse_args(argv)
    regimes = ("top_down",) if args.quick else REGIMES
    sizes = {k: v for k, v in SIZES.items() if not (args.quick and k == "100k")}
    started = time.perf_counter()

    old_tree = None if args.quick or args.no_baseline else baseline_tree()
    rows, baseline_rows, yardsticks = [], [], {}
    for label, (scale, reps, steps) in sizes.items():
        # the yardsticks again for every size, so a size's ratios compare runs of the same
        # minutes (the machine's load drifts over a bench run)
        reference, probe = boltzmann(), limit_probe()
        yardsticks[label] = {"mesa": reference, "limit_probe": probe}
        print(
            f"{label}: Mesa BoltzmannWealth, 10,000 agents: "
            f"{reference['agent_steps_per_sec'] / 1e6:.3f} M agent-steps/s "
            f"(CPU {reference['cpu_agent_steps_per_sec'] / 1e6:.3f}); limit probe "
            + (f"{probe[PROBE_SIZES[label]] / 1e6:.2f} M" if probe else "absent"),
            flush=True,
        )
        for regime in regimes:
            if old_tree is not None:  # the old revision first, then this one, size by size
                old = measure_size(regime, scale, reps, steps, old_tree)
                baseline_rows.append(_against(old, label, reference, probe))
            row = _against(measure_size(regime, scale, reps, steps), label, reference, probe)
            rows.append(row)
            print(
                f"  {label:>4} {regime:<14} {row['firms']:>7} firms "
                f"{row['sec_per_step'] * 1e3:8.2f} ms/step {row['ratio_to_mesa']:6.1f}x Mesa "
                f"({row['cpu_ratio_to_mesa']:.1f}x in CPU time)",
                flush=True,
            )
    print("default-world runs, this revision and the baseline alternating ...", flush=True)
    default_world = compare_default_world(regimes, rounds=2 if args.quick else 4)
    commands = {}
    print("cold klaster run ...", flush=True)
    commands["cold_run"] = cold_run()
    commands["first_run"] = first_run()
    if not args.quick:
        print("sweep throughput, 1 and 2 workers ...", flush=True)
        commands["sweep"] = sweep_throughput()

    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "git": git_revision(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "yardsticks": yardsticks,
        "sizes": rows,
        "per_size": per_size_summary(rows),
        "baseline_sizes": baseline_rows,
        "baseline_per_size": per_size_summary(baseline_rows) if baseline_rows else {},
        "fixed_cost_per_quarter": fixed_cost(rows),
        "cpu_fixed_cost_per_quarter": fixed_cost(rows, "cpu_sec_per_step"),
        "baseline_fixed_cost_per_quarter": fixed_cost(baseline_rows),
        "baseline_cpu_fixed_cost_per_quarter": fixed_cost(baseline_rows, "cpu_sec_per_step"),
        "default_world": default_world,
        **commands,
        "bench_wall_sec": time.perf_counter() - started,
    }
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwrote {OUT} ({report['bench_wall_sec']:.0f} s)")
    return 0


def _against(row: dict, label: str, reference: dict, probe: dict[int, float] | None) -> dict:
    """``row`` with its size label and its rates relative to Mesa's and the probe's."""
    row["size"] = label
    row["ratio_to_mesa"] = row["firm_steps_per_sec"] / reference["agent_steps_per_sec"]
    row["cpu_ratio_to_mesa"] = row["cpu_firm_steps_per_sec"] / reference["cpu_agent_steps_per_sec"]
    if probe and PROBE_SIZES[label] in probe:
        row["share_of_probe"] = row["firm_steps_per_sec"] / probe[PROBE_SIZES[label]]
    return row


def per_size_summary(rows: list[dict]) -> dict[str, dict]:
    """Per size over the regimes: the slowest regime sets the guarantee."""
    summary = {}
    for label in dict.fromkeys(r["size"] for r in rows):
        group = [r for r in rows if r["size"] == label]
        slowest = min(group, key=lambda r: r["firm_steps_per_sec"])
        summary[label] = {
            "firms": round(sum(r["firms"] for r in group) / len(group)),
            "steps": sum(r["reps"] * r["steps_per_rep"] for r in group) // len(group),
            "sec_per_step": slowest["sec_per_step"],
            "firm_steps_per_sec_min": slowest["firm_steps_per_sec"],
            "ns_per_firm_step_max": 1e9 / slowest["firm_steps_per_sec"],
            "cpu_ns_per_firm_step_max": 1e9 / min(r["cpu_firm_steps_per_sec"] for r in group),
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in group),
            "ratio_to_mesa_min": slowest["ratio_to_mesa"],
            "cpu_ratio_to_mesa_min": min(r["cpu_ratio_to_mesa"] for r in group),
            "share_of_probe_min": slowest.get("share_of_probe"),
        }
    return summary


def fixed_cost(rows: list[dict], key: str = "sec_per_step") -> dict[str, float]:
    """Seconds per quarter extrapolated to zero firms, per regime: the line through its 1k and
    10k points (time per quarter against firms; the 100k point would dominate a fit).
    ``key``: ``sec_per_step`` (wall) or ``cpu_sec_per_step``."""
    costs = {}
    for regime in dict.fromkeys(r["regime"] for r in rows):
        by_size = {r["size"]: r for r in rows if r["regime"] == regime}
        if "1k" in by_size and "10k" in by_size:
            small, large = by_size["1k"], by_size["10k"]
            slope = (large[key] - small[key]) / (large["firms"] - small["firms"])
            costs[regime] = small[key] - slope * small["firms"]
    return costs


def print_table(report: dict) -> None:
    print("\nReference per size (measured just before the size's runs):")
    for label, sticks in report["yardsticks"].items():
        ref, probe = sticks["mesa"], sticks["limit_probe"]
        rates = ", ".join(f"{n:,}: {r / 1e6:.2f} M" for n, r in probe.items()) if probe else "-"
        print(
            f"  {label}: {ref['model']}, {ref['agents']} agents: "
            f"{ref['agent_steps_per_sec'] / 1e6:.3f} M agent-steps/s "
            f"(CPU {ref['cpu_agent_steps_per_sec'] / 1e6:.3f}); limit probe firm-steps/s: {rates}"
        )
    header = (
        f"{'size':>5} {'regime':<14} {'firms':>7} {'ms/step':>9} {'spread':>15} "
        f"{'M f-s/s':>8} {'CPU M/s':>8} {'x Mesa':>7} {'(CPU)':>6} {'x probe':>8} {'peak MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in report["sizes"]:
        _print_row(r)
    if report["baseline_sizes"]:
        print(f"the same, at the start-of-issue-12 revision {BASELINE_REVISION[:7]}:")
        for r in report["baseline_sizes"]:
            _print_row(r)
        now, then = report["per_size"], report["baseline_per_size"]
        speedups = ", ".join(
            f"{label} {then[label]['ns_per_firm_step_max'] / per['ns_per_firm_step_max']:.2f}"
            for label, per in now.items()
            if label in then
        )
        print(f"speed-up of the slowest regime per size, now / then: {speedups}")
    _print_targets(report)


def _print_row(r: dict) -> None:
    spread = f"{r['sec_per_step_min'] * 1e3:.1f}-{r['sec_per_step_max'] * 1e3:.1f}"
    print(
        f"{r['size']:>5} {r['regime']:<14} {r['firms']:>7} {r['sec_per_step'] * 1e3:9.2f} "
        f"{spread:>15} {r['firm_steps_per_sec'] / 1e6:8.2f} "
        f"{r['cpu_firm_steps_per_sec'] / 1e6:8.2f} {r['ratio_to_mesa']:7.1f} "
        f"{r['cpu_ratio_to_mesa']:6.1f} {_share(r.get('share_of_probe')):>8} "
        f"{r['peak_rss_mib']:9.0f}"
    )


def _print_targets(report: dict) -> None:
    per = report["per_size"]
    if "10k" in per and "100k" in per:
        growth = per["100k"]["ns_per_firm_step_max"] / per["10k"]["ns_per_firm_step_max"]
        print(f"\ntime per firm-step, 100k / 10k (slowest regime): {growth:.2f} (target <= 1.5)")
    if "1k" in per and "100k" in per:
        small = per["1k"]["ns_per_firm_step_max"] / per["100k"]["ns_per_firm_step_max"]
        print(f"time per firm-step, 1k / 100k (slowest regime): {small:.2f} (target <= 2)")
        big = per["100k"]
        print(
            f"100k, slowest regime: {big['ratio_to_mesa_min']:.1f}x Mesa "
            f"({big['cpu_ratio_to_mesa_min']:.1f}x in CPU time) (target >= 40), "
            f"{_share(big['share_of_probe_min'])} of the limit probe (target >= 0.29)"
        )
    for prefix, label in (("", "now"), ("baseline_", BASELINE_REVISION[:7])):
        wall, cpu = (
            report[f"{prefix}fixed_cost_per_quarter"],
            report[f"{prefix}cpu_fixed_cost_per_quarter"],
        )
        if wall:
            costs = ", ".join(f"{r} {wall[r] * 1e3:.2f} ({cpu[r] * 1e3:.2f})" for r in wall)
            print(f"fixed cost of a quarter, {label} (0 firms; 1k, 10k), ms wall (CPU): {costs}")
    world = report["default_world"]
    print(
        f"default-world run (build, burn-in, 40 quarters, outcome tables; median of "
        f"{world['runs_per_regime']}), s wall (CPU):"
    )
    for regime, row in world["regimes"].items():
        line = f"  {regime:<14} now {row['wall_sec_now']:.3f} ({row['cpu_sec_now']:.3f})"
        if world["baseline_revision"]:
            line += (
                f"  {world['baseline_revision']} {row['wall_sec_baseline']:.3f} "
                f"({row['cpu_sec_baseline']:.3f})  now/then {row['wall_ratio']:.2f} "
                f"({row['cpu_ratio']:.2f}; least CPU {row['cpu_sec_min_now']:.3f} / "
                f"{row['cpu_sec_min_baseline']:.3f} = {row['cpu_min_ratio']:.2f}) (target <= 0.33)"
            )
        print(line)
    cold = report["cold_run"]
    print(
        f"cold `{cold['command']}`: {cold['wall_sec_median']:.2f} s wall median "
        f"({cold['cpu_sec_median']:.2f} s CPU) (target < 5 s wall)"
    )
    first = report["first_run"]
    print(
        f"first-ever `klaster run` (every kernel compiled): {first['wall_sec']:.2f} s wall "
        f"({first['cpu_sec']:.2f} s CPU)"
    )
    if "sweep" in report:
        s = report["sweep"]
        print(
            f"sweep ({s['runs']} runs): {s['runs_per_min_1_workers']:.0f} runs/min on 1 worker, "
            f"{s['runs_per_min_2_workers']:.0f} on 2: speed-up {s['speedup_2_vs_1']:.2f}"
            " (target >= 1.8)"
        )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
