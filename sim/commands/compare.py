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

from sim.commands.arguments import (
    MAX_SEED,
    add_set_option,
    seed_count,
    seed_number,
    step_count,
    worker_count,
)
from sim.model.simulate import simulate
from sim.runner.compare import add_baseline_gains, format_table, summary_table
from sim.runner.finite import check_finite
from sim.runner.folders import check_target
from sim.runner.numbers import MIN_SEEDS, few_seeds_warning
from sim.runner.outputs import atomic_folder, write_dictionary, write_json, write_table
from sim.runner.provenance import provenance
from sim.runner.tables import run_summary
from sim.scenario.errors import InputError, RunFailed, clip
from sim.scenario.files import load_scenario
from sim.scenario.presets import PRESETS
from sim.scenario.schema import Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run several scenarios (by default the four regime presets) on the default world over "
        "the same seeds, and compare them: a table of means with 95% intervals, gains over no "
        "policy paired by seed, and a self-contained report.html. Writes runs, steps and "
        "comparison tables (Parquet and CSV) with their dictionary columns.csv."
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        default=list(PRESETS),
        metavar="SCENARIO",
        help="scenario files or preset names (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds",
        type=seed_count,
        default=10,
        metavar="N",
        help="seeds per scenario, the same N seeds for every scenario (default: %(default)s); "
        f"intervals are shown from {MIN_SEEDS} seeds on",
    )
    parser.add_argument(
        "--first-seed",
        type=seed_number,
        default=0,
        metavar="N",
        help="first seed: runs use seeds N .. N+seeds-1 (default: %(default)s)",
    )
    parser.add_argument(
        "--steps",
        type=step_count,
        default=None,
        metavar="N",
        help="policy quarters per run (default: each scenario's run.steps)",
    )
    parser.add_argument(
        "--workers",
        type=worker_count,
        default=2,
        metavar="N",
        help="worker processes running simulations in parallel, at most one per CPU core; "
        "results do not depend on it (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/compare"),
        metavar="DIR",
        help="output folder: a new folder, or an earlier compare result whose klaster files are "
        "replaced when the command succeeds (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder that is not a compare result; klaster's files there "
        "are replaced, every other file is left alone",
    )
    add_set_option(parser, "override a scenario parameter in every scenario")
    parser.add_argument(
        "--figures",
        type=Path,
        default=None,
        metavar="DIR",
        help="also export the report's figures to DIR as PNG (300 dpi), SVG and PDF (needs "
        "Chromium; checked before any run starts)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_one(job: tuple[Scenario, int, int | None]) -> tuple[dict, pd.DataFrame]:
    """One run: its row of the runs table (summary, value added index, policy parameters) and
    its per-step table."""
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
    return run_summary(scenario, seed, result).iloc[0].to_dict(), aggregate


def main(args: argparse.Namespace) -> int:
    scenarios = [load_scenario(name, args.overrides) for name in args.scenarios]
    if args.figures is not None:
        from sim.report.export import export_available

        ok, reason = export_available()
        if not ok:
            raise InputError(f"--figures {args.figures}: {reason}")
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
    runs = add_baseline_gains(pd.DataFrame([row for row, _ in results]))
    steps = pd.concat([frame for _, frame in results], ignore_index=True)
    table = summary_table(runs)
    wall = time.perf_counter() - started
    with atomic_folder(args.out, "compare", args.overwrite) as folder:
        leading = ["scenario", "seed"]
        steps = steps[leading + [c for c in steps.columns if c not in leading]]
        write_dictionary(
            folder,
            [
                write_table(runs, folder, "runs", "summary"),
                write_table(steps, folder, "steps", "aggregate"),
                write_table(table, folder, "comparison", "summary"),
            ],
        )
        from sim.report.comparison import write_comparison_report

        named = write_comparison_report(runs, steps, table, folder / "report.html")
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
    print("Means over seeds [95% t-intervals]. Gains are over no_policy with the same seed (the")
    print("same world); value added index = run mean / its level at policy start - 1.")
    if args.seeds < MIN_SEEDS:
        print(few_seeds_warning(args.seeds))
    print()
    print(format_table(table))
    if args.figures is not None:
        from sim.report.export import export_figures

        written = export_figures(named, args.figures)
        print(f"\nFigures: {len(written)} files -> {args.figures}/ (PNG 300 dpi, SVG, PDF)")
    print(
        f"\nResults: {args.out}/ (runs, steps, comparison as CSV and Parquet; columns.csv "
        "says what every column is; report.html)"
    )
    return 0
