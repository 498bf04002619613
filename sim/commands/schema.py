"""``klaster schema``: the JSON Schema of scenario files, for editors."""

from __future__ import annotations

import argparse

from sim.scenario.files import scenario_json_schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        choices=["scenario", "experiment"],
        default="scenario",
        help="which file's schema to print (default: %(default)s)",
    )


def main(args: argparse.Namespace) -> int:
    if args.kind == "experiment":
        from sim.runner.experiment import experiment_json_schema

        print(experiment_json_schema())
    else:
        print(scenario_json_schema())
    return 0
