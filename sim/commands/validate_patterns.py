"""``klaster validate-patterns``: every target of a calibration file on 32+ fresh seeds.

Exit status: 0 every target is met; 1 a pattern fails (the table says which); 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sim.commands.arguments import non_negative_int, positive_int
from sim.runner.executors import EXECUTORS, ExecutorSpec, validate

DEFAULT_FILE = Path("calibration/default.yaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "calibration",
        nargs="?",
        type=Path,
        default=DEFAULT_FILE,
        help=f"calibration file whose targets to check (default: {DEFAULT_FILE})",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help="seeds (default: the file's validation.seeds, 32)",
    )
    parser.add_argument(
        "--master-seed",
        type=non_negative_int,
        default=None,
        help="root of the validation seeds (default: the file's validation.master_seed)",
    )
    parser.add_argument(
        "--calibrated",
        type=Path,
        default=None,
        metavar="SCENARIO",
        help="a scenario file (e.g. calibrated.yaml from klaster calibrate) whose values apply "
        "to every run; default: the scenarios as they are",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/validation"),
        metavar="DIR",
        help="folder for the per-target table and the per-seed records (default: %(default)s)",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="process",
        help="where the runs execute (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="parallel workers (default: one per CPU core)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.calibrate.config import load_calibration
    from sim.calibrate.validation import check, measure, patterns, validation_seeds
    from sim.scenario.files import load_raw, read_yaml_mapping
    from sim.scenario.parameters import flatten

    spec = ExecutorSpec(kind=args.executor, workers=args.workers)
    validate(spec)
    calibration, _ = load_calibration(args.calibration)
    values = {}
    if args.calibrated is not None:
        read_yaml_mapping(args.calibrated)  # a missing or malformed file is an input error
        values = flatten(load_raw(args.calibrated))
        from sim.calibrate.measure import scenario_with

        scenario_with(calibration.scenarios.world, values, str(args.calibrated))  # validate keys
    count = args.seeds or calibration.validation.seeds
    master = (
        args.master_seed if args.master_seed is not None else calibration.validation.master_seed
    )
    seeds = validation_seeds(master, count)
    started = time.perf_counter()
    with tqdm(
        total=count, desc="validate", unit="seed", file=sys.stderr, disable=args.quiet
    ) as bar:
        records = measure(calibration, values, seeds, spec, progress=lambda: bar.update(1))
    checks = check(calibration, records)
    seconds = time.perf_counter() - started
    for c in checks:
        print(c.line())
    facts = patterns(checks)
    met = sum(c.passed for c in checks)
    print(
        f"{met} of {len(checks)} targets met; {sum(facts.values())} of {len(facts)} patterns "
        f"reproduced ({count} seeds from master seed {master}, {seconds:.0f} s)"
    )
    if count < 32:
        print(f"note: {count} seeds; a validation that counts needs 32 or more")
    payload = {
        "calibration": str(args.calibration),
        "calibrated": str(args.calibrated) if args.calibrated else None,
        "seeds": count,
        "master_seed": master,
        "seconds": round(seconds, 1),
        "passed": met,
        "patterns": [{"pattern": fact, "passed": ok} for fact, ok in facts.items()],
        "checks": [c.as_dict() for c in checks],
    }
    from sim.runner.manifest import environment

    env = environment()
    payload["git revision"] = (env["git"].get("revision") or "unknown")[:12]
    payload["model version"] = env["model_version"]
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "validation.json"
    temp = target.with_name(".validation.json.tmp")
    temp.write_text(json.dumps(payload, indent=2, default=float) + "\n", encoding="utf-8")
    temp.replace(target)
    return 0 if met == len(checks) else 1
