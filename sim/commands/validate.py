"""``klaster validate FILE...``: check scenario files and print what they resolve to."""

from __future__ import annotations

import argparse

from sim.commands.arguments import add_set_option
from sim.scenario.files import load_scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", help="scenario YAML files")
    add_set_option(parser, "check the files with this override applied")


def main(args: argparse.Namespace) -> int:
    for path in args.files:
        scenario = load_scenario(path, args.overrides)
        print(f"{path}: ok (scenario {scenario.name!r}, hash {scenario.content_hash()})")
    return 0
