"""``klaster compare``: the regime presets on the default world over several seeds, compared.

The quick, real comparison `make run` shows; `klaster sweep` is the full experiment runner.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sim.commands.arguments import MAX_SEED, seed_count, seed_number, step_count, worker_count
from sim.model.simulate import simulate
from sim.runner.compare import add_baseline_gains, format_table, summary_table
from sim.runner.finite import check_finite
from sim.runner.folders import check_target
from sim.runner.outputs import atomic_folder, write_json, write_table
from sim.runner.provenance import provenance
from sim.scenario.errors import InputError, RunFailed, clip
from sim.scenario.files import load_scenario
from sim.scenario.presets import PRESETS
from sim.scenario.schema import Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="*", default=list(PRESETS), help="files or presets")
    parser.add_argument("--seeds", type=seed_count, default=10, help="seeds 0..N-1 per scenario")
    parser.add_argument("--first-seed", type=seed_number, default=0)
    parser.add_argument("--steps", type=step_count, default=None)
    parser.add_argument(
        "--workers", type=worker_count, default=2, help="processes (at most one per CPU core)"
    )
    parser.add_argument("--out", type=Path, default=Path("results/compare"))
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder that is not a compare result; klaster's files there "
        "are replaced, every other file is left alone",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quiet", action="store_true")


def run_one(job: tuple[Scenario, int, int | None]) -> tuple[dict, pd.DataFrame]:
    scenario, seed, steps = job
    what = f"{scenario.name}, seed {seed}"
    try:
        result = simulate(scenario, seed, steps)
    except (ArithmeticError, ValueError, IndexError) as exc:
        raise RunFailed(
            f"{what}: the run failed ({type(exc).__name__}: {clip(str(exc), 120)})"
        ) from None
    check_finite(result.summary, result.aggregate, what)
    aggregate = result.aggregate.assign(scenario=scenario.name, seed=seed)
    return {"scenario": scenario.name, "seed": seed, **result.summary}, aggregate


def main(args: argparse.Namespace) -> int:
    scenarios = [load_scenario(name, args.overrides) for name in args.scenarios]
    if args.first_seed + args.seeds - 1 > MAX_SEED:
        raise InputError(
            f"--first-seed {args.first_seed} + --seeds {args.seeds}: seeds beyond {MAX_SEED}"
        )
    check_target(args.out, "compare", args.overwrite)  # refuse now, not after the runs
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(scenario, seed, args.steps) for scenario in scenarios for seed in seeds]
    workers = min(args.workers, os.cpu_count() or 1, len(jobs))
    if workers < args.workers and not args.quiet:
        print(f"note: {workers} worker(s), one per CPU core and run at most", file=sys.stderr)
    started = time.perf_counter()
    with (
        ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool,
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
    with atomic_folder(args.out, "compare", args.overwrite) as folder:
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
