"""Comparing scenarios over seeds: per-run summaries, means with 95% intervals, and gains over the
no-policy baseline paired by seed (same seed, same world, so the difference is the policy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.runner.numbers import MIN_SEEDS, interval
from sim.runner.tables import heading
from sim.scenario.presets import BASELINE

# Gains are differences from the no-policy run with the same seed: for no policy itself they are
# zero by construction, so its cell says "reference" rather than "0 [0, 0]".
GAINS: tuple[str, ...] = (
    "va_gain",
    "va_gain_per_budget",
    "sales_from_outside",
    "sales_from_market_growth",
)

TABLE_OUTCOMES: tuple[str, ...] = (
    "va_index",
    "value_added",
    "va_per_worker",
    "market_share",
    "export_share",
    "employment",
    "survival",
    "vertical_linkage",
    "horizontal_density",
    "joint_action",
    "takeup_rate",
    "support_gini",
    "share_unsupported",
    "budget_spent",
    "va_gain",
    "va_gain_per_budget",
    "sales_from_outside",
    "sales_from_market_growth",
)


def add_baseline_gains(runs: pd.DataFrame) -> pd.DataFrame:
    """Against the no-policy run with the same seed: value added gained, per unit of budget
    spent, and where the model's firms' extra sales came from in the final year: taken from
    outside competitors (their sales fell), or market growth (demand rose; zero when demand is
    the same in both runs, as common random numbers make it)."""
    runs = runs.copy()
    if BASELINE not in set(runs["scenario"]):
        for name in GAINS:
            runs[name] = np.nan
        return runs
    baseline = runs[runs["scenario"] == BASELINE].set_index("seed")
    runs["va_gain"] = runs["cumulative_value_added"] - runs["seed"].map(
        baseline["cumulative_value_added"]
    )
    spent = runs["budget_spent"].where(runs["budget_spent"] > 0)
    runs["va_gain_per_budget"] = runs["va_gain"] / spent
    if {"outside_sales", "demand"} <= set(runs.columns):
        runs["sales_from_outside"] = (
            runs["seed"].map(baseline["outside_sales"]) - runs["outside_sales"]
        )
        runs["sales_from_market_growth"] = runs["demand"] - runs["seed"].map(baseline["demand"])
    else:
        runs["sales_from_outside"] = runs["sales_from_market_growth"] = np.nan
    return runs


def mean_interval(values: pd.Series, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval; NaN-safe; a single value has no interval."""
    values = values.dropna().to_numpy(dtype=float)
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * stats.sem(values))
    return (mean, mean - half, mean + half)


def summary_table(runs: pd.DataFrame, outcomes: tuple[str, ...] = TABLE_OUTCOMES) -> pd.DataFrame:
    """Long table: scenario, outcome, n, mean, ci_low, ci_high."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        for outcome in outcomes:
            if outcome not in group:
                continue
            mean, low, high = mean_interval(group[outcome])
            rows.append(
                {
                    "scenario": scenario,
                    "outcome": outcome,
                    "n": int(group[outcome].notna().sum()),
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


def cell_text(row: pd.Series, min_seeds: int = MIN_SEEDS) -> str:
    """One cell of the comparison: "mean [low, high]", readable; "reference" for the gains of
    the baseline itself; the mean alone with a warning below ``min_seeds`` seeds."""
    if row["scenario"] == BASELINE and row["outcome"] in GAINS:
        return "reference"
    return interval(row["mean"], row["ci_low"], row["ci_high"], int(row["n"]), min_seeds=min_seeds)


def format_table(table: pd.DataFrame, min_seeds: int = MIN_SEEDS) -> str:
    """Outcomes (with units) as rows, scenarios as columns, "mean [low, high]" in each cell."""
    cells = table.assign(cell=table.apply(cell_text, axis=1, min_seeds=min_seeds))
    wide = cells.pivot(index="outcome", columns="scenario", values="cell")
    order = [o for o in TABLE_OUTCOMES if o in wide.index]
    scenarios = list(dict.fromkeys(table["scenario"]))
    wide = wide.loc[order, scenarios]
    wide.index = [heading(name) for name in wide.index]
    wide.index.name = "outcome (unit)"
    return wide.to_string(justify="left")
