"""``klaster compare``: the regime presets on the default world over several seeds, compared.

The quick, real comparison `make run` shows; `klaster sweep` is the full experiment runner.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sim.commands.arguments import non_negative_int, positive_int
from sim.model.simulate import simulate
from sim.runner.compare import add_baseline_gains, format_table, summary_table
from sim.runner.outputs import atomic_folder, write_json, write_table
from sim.runner.provenance import provenance
from sim.scenario.files import load_scenario
from sim.scenario.presets import PRESETS
from sim.scenario.schema import Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="*", default=list(PRESETS), help="files or presets")
    parser.add_argument("--seeds", type=positive_int, default=10, help="seeds 0..N-1 per scenario")
    parser.add_argument("--first-seed", type=non_negative_int, default=0)
    parser.add_argument("--steps", type=positive_int, default=None)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/compare"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quiet", action="store_true")


def run_one(job: tuple[Scenario, int, int | None]) -> tuple[dict, pd.DataFrame]:
    scenario, seed, steps = job
    result = simulate(scenario, seed, steps)
    aggregate = result.aggregate.assign(scenario=scenario.name, seed=seed)
    return {"scenario": scenario.name, "seed": seed, **result.summary}, aggregate


def main(args: argparse.Namespace) -> int:
    scenarios = [load_scenario(name, args.overrides) for name in args.scenarios]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(scenario, seed, args.steps) for scenario in scenarios for seed in seeds]
    started = time.perf_counter()
    with (
        ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool,
        tqdm(total=len(jobs), desc="runs", unit="run", disable=args.quiet) as bar,
    ):
        results = []
        for item in pool.map(run_one, jobs):  # map keeps job order: output is order-stable
            results.append(item)
            bar.update(1)
    runs = add_baseline_gains(pd.DataFrame([summary for summary, _ in results]))
    steps = pd.concat([frame for _, frame in results], ignore_index=True)
    table = summary_table(runs)
    wall = time.perf_counter() - started
    with atomic_folder(args.out) as folder:
        write_table(runs, folder, "runs")
        write_table(steps, folder, "steps")
        write_table(table, folder, "comparison")
        from sim.report.comparison import write_comparison_report

        write_comparison_report(runs, steps, table, folder / "report.html")
        write_json(
            {
                "scenarios": {s.name: s.content_hash() for s in scenarios},
                "seeds": list(seeds),
                "runs": len(jobs),
                "wall_seconds": round(wall, 2),
                **provenance(),
            },
            folder / "manifest.json",
        )
    print(f"\n{len(jobs)} runs ({len(scenarios)} scenarios x {args.seeds} seeds) in {wall:.1f} s")
    print("Means over seeds with 95% intervals; va_gain_per_budget is value added gained over")
    print("no_policy with the same seed, per unit of budget spent.\n")
    print(format_table(table))
    print(f"\nResults: {args.out}/ (runs.csv, steps.csv, comparison.csv, report.html)")
    return 0
