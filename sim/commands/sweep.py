"""``klaster sweep EXPERIMENT``: run an experiment file, resumably, on any executor.

Exit status: 0 every run succeeded; 1 some runs failed (see failures.jsonl); 2 bad input
(experiment or scenario file, arguments, an output folder that is locked, foreign or of another
kind) with nothing written; 3 the environment failed (disk full, permissions, scheduler).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.arguments import worker_count
from sim.runner.executors import EXECUTORS, ExecutorSpec, validate
from sim.runner.folders import check_target, folder_name
from sim.runner.plan import make_plan
from sim.runner.sweep import run_sweep


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment YAML file, e.g. experiments/smoke.yaml")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: results/<experiment name>)"
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where runs execute (default: process; dask when --scheduler is given)",
    )
    parser.add_argument(
        "--workers",
        type=worker_count,
        default=None,
        help="parallel workers (default and most: one per CPU core; with --scheduler slurm, the "
        "number of jobs)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder that is not a sweep result; klaster's files there "
        "are replaced, every other file is left alone",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="dask scheduler address (tcp://host:8786), or 'slurm' to start workers as SLURM jobs "
        "with dask-jobqueue (settings from its config; --workers is the number of jobs)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and show the plan; run and write nothing"
    )


def main(args: argparse.Namespace) -> int:
    kind = args.executor or ("dask" if args.scheduler else "process")
    spec = ExecutorSpec(kind=kind, workers=args.workers, scheduler=args.scheduler)
    validate(spec)
    plan = make_plan(args.experiment)
    experiment = plan.experiment
    out_dir = (
        args.out
        if args.out is not None
        else Path("results") / folder_name(str(experiment.name), f"{args.experiment}: name")
    )
    check_target(out_dir, "sweep", args.overwrite)
    if args.dry_run:
        print(
            f"{experiment.name}: {len(plan.bases)} scenario(s) x "
            f"{len(plan.points) // max(1, len(plan.bases))} point(s) ({experiment.design.kind}) x "
            f"{experiment.replicates} replicate(s) = {len(plan.runs)} runs -> {out_dir}"
        )
        return 0
    report = run_sweep(
        plan, out_dir, spec, quiet=args.quiet, command=sys.argv, overwrite=args.overwrite
    )
    print(
        f"{experiment.name}: {report.planned} runs: {report.succeeded} ran, "
        f"{report.skipped} already done, {report.failed} failed "
        f"({spec.describe()}, {report.seconds:.1f} s) -> {out_dir}"
    )
    if report.failed:
        sys.stderr.write(
            f"{report.failed} run(s) failed; parameters, seeds and tracebacks are in "
            f"{out_dir / 'failures.jsonl'}. Re-run the same command to retry them.\n"
        )
        return 1
    return 0
