"""Reports refuse to overstate: no interval or verdict from too few seeds, rankings that follow
the verdicts, numbers a reader can read, and every command option documented."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from sim.cli import SUBCOMMANDS, build_parser
from sim.report.analyses.common import interval_table, ranking
from sim.report.statistics import TOO_FEW, bootstrap_difference, verdict
from sim.runner.compare import cell_text, format_table, summary_table
from sim.runner.numbers import MIN_SEEDS, interval, number


def test_numbers_have_separators_few_digits_and_no_exponent() -> None:
    assert number(84963.2) == "84,960"
    assert number(1517496.7) == "1,517,000"
    assert number(0.11725) == "0.117"
    assert number(-1.8336) == "-1.83"
    assert number(float("nan")) == "n/a"
    assert "e" not in number(0.000123) and "e" not in number(1.2e9)


def test_too_few_seeds_give_no_interval_and_no_verdict() -> None:
    rng = np.random.default_rng(0)
    few = bootstrap_difference(rng.normal(5, 1, MIN_SEEDS - 1), rng.normal(0, 1, MIN_SEEDS - 1))
    assert few.low > 0  # the bootstrap itself would call it ...
    assert verdict(few) == TOO_FEW  # ... but the report does not, from so few seeds
    enough = bootstrap_difference(rng.normal(5, 1, MIN_SEEDS), rng.normal(0, 1, MIN_SEEDS))
    assert verdict(enough) == "beats"
    assert "[" not in interval(1.0, 0.5, 1.5, MIN_SEEDS - 1)
    assert interval(1.0, 0.5, 1.5, MIN_SEEDS) == "1.00 [0.500, 1.50]"
    cells = interval_table(
        pd.DataFrame(
            {
                "scenario": ["a", "b"],
                "outcome": ["x", "x"],
                "mean": [1.0, 2.0],
                "low": [0.5, 1.5],
                "high": [1.5, 2.5],
                "n": [3, MIN_SEEDS],
            }
        )
    )
    assert cells.loc["x", "a"] == "1.00 (n=3)" and "[" in cells.loc["x", "b"]


def test_a_ranking_never_puts_a_tie_as_greater() -> None:
    effects = pd.DataFrame(
        {
            "a": ["demand_driven", "top_down", "demand_driven"],
            "b": ["top_down", "bottom_up", "bottom_up"],
            "verdict": ["ties", "beats", "beats"],
        }
    )
    ranked = [("demand_driven", "+13.4%"), ("top_down", "+10.7%"), ("bottom_up", "+2.0%")]
    text = ranking(ranked, effects)
    assert "demand_driven (+13.4%) ≈ top_down (+10.7%) > bottom_up" in text
    assert "demand_driven (+13.4%) >" not in text
    # the other direction of a contrast is read too: b "loses" to a means a beats b
    flipped = effects.assign(a=effects["b"], b=effects["a"], verdict=["ties", "loses", "loses"])
    assert ranking(ranked, flipped) == text


def _runs(seeds: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for scenario, lift in (("no_policy", 0.0), ("top_down", 5000.0)):
        for seed in range(seeds):
            rows.append(
                {
                    "scenario": scenario,
                    "seed": seed,
                    "value_added": 80000 + lift + rng.normal(0, 100),
                    "va_gain": lift + rng.normal(0, 10) if lift else 0.0,
                }
            )
    return pd.DataFrame(rows)


def test_the_compare_table_is_readable_and_says_reference_for_no_policy() -> None:
    table = summary_table(_runs(MIN_SEEDS))
    text = format_table(table)
    assert "value added per quarter, final year (wage units per quarter)" in text
    assert "reference" in text and "0 [0, 0]" not in text
    assert "e+0" not in text and "," in text  # thousands separators, no exponent
    row = table[(table["scenario"] == "no_policy") & (table["outcome"] == "va_gain")].iloc[0]
    assert cell_text(row) == "reference"
    few = format_table(summary_table(_runs(3)))
    assert "(n=3)" in few and "[" not in few


def test_every_option_of_every_command_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in SUBCOMMANDS:
        child = sub.choices[name]
        if child.get_default("_module") is None:
            pytest.skip(f"{name}: its module is not importable here")
        for action in child._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"klaster {name}: {action.dest} has no help text"
