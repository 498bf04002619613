"""Argument types that reject bad values with a message naming what was expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_SEED = 2**63 - 1  # seeds are stored as int64 in every table
MAX_STEPS = 100_000  # the scenario schema's bound on run.steps
MAX_SEEDS = 100_000  # seeds per scenario in `klaster compare`
MAX_WORKERS = 1024  # beyond this, one process per run in flight is a mistake, not a cluster


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers in [``minimum``, ``maximum``]."""

    def parse(text: str) -> int:
        value = None
        if len(text) <= 25:  # int() of a 5,000-digit string raises; no valid value is that long
            try:
                value = int(text)
            except ValueError:
                value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            shown = text if len(text) <= 30 else f"{text[:20]}... ({len(text)} chars)"
            expected = (
                f"a whole number >= {minimum}"
                if maximum is None
                else f"a whole number from {minimum} to {maximum:,}"
            )
            raise argparse.ArgumentTypeError(f"expected {expected}, got {shown!r}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)
seed_number = whole_number(0, MAX_SEED)
step_count = whole_number(1, MAX_STEPS)
seed_count = whole_number(1, MAX_SEEDS)
worker_count = whole_number(1, MAX_WORKERS)


def add_set_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--set KEY=VALUE`` (repeatable), the command line's scenario overrides.

    parser: the subcommand's parser
    what: what the override applies to, e.g. "override a scenario parameter"
    """
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{what}, e.g. --set policy.planning_quality=0.9 (repeatable)",
    )
