"""``klaster calibrate CALIBRATION``: fit the uncertain parameters to the targets (ABC-SMC).

Exit status: 0 the calibration ran to its budget or tolerance; 2 bad input (calibration or
scenario file, arguments, a folder holding another calibration) with nothing written; 3 a worker
process died (killed, out of memory), the populations finished so far kept. Run the same command
again to continue a stopped calibration from its last population.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.arguments import positive_int
from sim.runner.executors import EXECUTORS, ExecutorSpec, validate

DEFAULT_FILE = Path("calibration/default.yaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "calibration",
        nargs="?",
        type=Path,
        default=DEFAULT_FILE,
        help=f"calibration YAML file (default: {DEFAULT_FILE})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: results/calibration/<name>); an existing one resumes",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where evaluations run: pyabc's single-core, multicore or dask sampler "
        "(default: process; dask when --scheduler is given)",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=None, help="parallel workers (default: CPU cores)"
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="dask scheduler address, or 'slurm'"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate the file and show the plan; run nothing"
    )


def main(args: argparse.Namespace) -> int:
    from sim.calibrate.config import load_calibration

    kind = args.executor or ("dask" if args.scheduler else "process")
    spec = ExecutorSpec(kind=kind, workers=args.workers, scheduler=args.scheduler)
    validate(spec)
    calibration, priors = load_calibration(args.calibration)
    out_dir = args.out if args.out is not None else Path("results/calibration") / calibration.name
    budget = calibration.budget
    if args.dry_run:
        print(
            f"{calibration.name}: {len(priors)} parameters, {len(calibration.targets)} targets, "
            f"{calibration.seeds_per_evaluation} seeds per evaluation; up to "
            f"{budget.populations} populations of {budget.particles} particles, "
            f"{budget.max_evaluations} evaluations, {budget.max_minutes:g} minutes -> {out_dir}"
        )
        for key, (low, high, integer) in priors.items():
            print(f"  {key}: uniform [{low:g}, {high:g}]{' (whole numbers)' if integer else ''}")
        return 0
    try:
        import pyabc  # noqa: F401
    except ImportError:
        sys.stderr.write("klaster calibrate: needs pyabc: pip install 'klaster[calibrate]'\n")
        return 2
    from sim.calibrate.fit import run_calibration

    report = run_calibration(args.calibration, out_dir, spec, quiet=args.quiet, command=sys.argv)
    print(
        f"{calibration.name}: {report.populations} populations, {report.evaluations} "
        f"evaluations, tolerance {report.epsilon:.3g} ({report.stopped_because}; "
        f"{spec.describe()}, {report.seconds:.0f} s) -> {out_dir}"
    )
    fit = out_dir / "fit.csv"
    if fit.is_file():
        import pandas as pd

        table = pd.read_csv(fit)
        inside = int(table["median_in_band"].sum())
        print(f"{inside} of {len(table)} targets with the posterior median in band ({fit})")
        print(f"summary: {write_summary(out_dir)}")
    return 0


def write_summary(out_dir: Path) -> Path:
    """``summary.md``: the run budget, each parameter's prior and posterior, each target's fit."""
    import json

    import pandas as pd

    from sim.commands.report import markdown_table

    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    parameters = pd.read_csv(out_dir / "parameters.csv")
    fit = pd.read_csv(out_dir / "fit.csv")
    populations = pd.read_csv(out_dir / "populations.csv")
    settings = manifest["calibration"]["settings"]
    model = manifest["environment"]["model_version"]
    revision = str(manifest["environment"]["git"].get("revision"))[:12]
    lines = [
        f"# Calibration {manifest['calibration']['name']}",
        "",
        f"File `{manifest['calibration']['file']}` (sha256 "
        f"{manifest['calibration']['sha256'][:12]}), model {model}, git {revision}.",
        f"{settings['seeds_per_evaluation']} seed(s) per evaluation; "
        f"{manifest['populations']} populations, {manifest['evaluations']} evaluations "
        f"(prior sample included), {manifest['wall_seconds']:.0f} s wall on {manifest['sampler']} "
        f"({manifest['core_seconds_per_evaluation']:.2f} core-seconds per evaluation); stopped: "
        f"{manifest['stopped_because']}; final tolerance {manifest['epsilon']:.3g}.",
        "",
        "## Parameters: prior (uniform) and posterior (weighted median, 90% interval)",
        "",
        markdown_table(parameters),
        "## Targets: band and the accepted sets' statistic (median, 90% interval)",
        "",
        markdown_table(fit.drop(columns=["source"])),
        "## Populations",
        "",
        markdown_table(populations.drop(columns=["population_end_time"])),
    ]
    target = out_dir / "summary.md"
    target.write_text("\n".join(lines), encoding="utf-8")
    return target
