"""A self-contained HTML page for `klaster compare`: trajectories, gains and the comparison table.

Its figures come from ``sim.report.figures`` (the experiment report's builders: same palette,
titles, axis units, light bands); plotly.js is written inline once, so the page opens offline.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from sim.report import figures
from sim.runner.compare import BASELINE, TABLE_OUTCOMES, cell_text
from sim.runner.numbers import MIN_SEEDS, few_seeds_warning
from sim.runner.tables import heading

TRAJECTORIES = ("value_added", "market_share", "employment", "vertical_linkage")


def paired_differences(steps: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Each run's trajectory minus the baseline run with the same seed (same world, same demand
    path): what the policy changed, without the spread between worlds."""
    columns = list(TRAJECTORIES)
    base = steps[steps["scenario"] == baseline].set_index(["seed", "step"])[columns]
    others = steps[steps["scenario"] != baseline]
    joined = others.merge(
        base.add_suffix("_baseline"), left_on=["seed", "step"], right_index=True, how="left"
    )
    for column in columns:
        joined[column] = joined[column] - joined[f"{column}_baseline"]
    return joined[["scenario", "seed", "step", *columns]]


def comparison_figures(runs: pd.DataFrame, steps: pd.DataFrame) -> list[tuple[str, go.Figure]]:
    """The page's figures, named for export: paths, paths against no policy, gain per budget."""
    scenarios = list(dict.fromkeys(steps["scenario"]))
    found = [c for c in TRAJECTORIES if c in steps]
    named = [
        (
            "compare_paths",
            figures.path_panels(
                steps,
                found,
                "scenario",
                "Outcomes per quarter",
                bands=False,  # levels differ mostly between worlds: see the paired differences
            ),
        )
    ]
    if BASELINE in scenarios and len(scenarios) > 1:
        named.append(
            (
                "compare_paths_vs_no_policy",
                figures.path_panels(
                    paired_differences(steps),
                    found,
                    "scenario",
                    "Difference from no policy, same world (seed)",
                ),
            )
        )
    policy = runs[runs["budget_spent"] > 0]
    if len(policy) and policy["va_gain_per_budget"].notna().any():
        named.append(
            (
                "compare_gain_per_budget",
                figures.box_by_group(
                    policy,
                    "va_gain_per_budget",
                    "scenario",
                    "Value added gained per unit of budget, per run (vs no policy, same seed)",
                    yaxis="value added gained / budget spent (ratio)",
                ),
            )
        )
    return named


def html_table(table: pd.DataFrame, min_seeds: int = MIN_SEEDS) -> str:
    """Outcomes (with units) as rows, scenarios as columns: "mean [low, high]", readable."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    outcomes = [o for o in TABLE_OUTCOMES if o in set(table["outcome"])]
    cells = table.set_index(["outcome", "scenario"])
    head = "".join(f"<th>{html.escape(s)}</th>" for s in scenarios)
    rows = []
    for outcome in outcomes:
        row = [f"<th>{html.escape(heading(outcome))}</th>"]
        for scenario in scenarios:
            if (outcome, scenario) not in cells.index:
                row.append("<td></td>")
                continue
            record = {**cells.loc[(outcome, scenario)], "outcome": outcome, "scenario": scenario}
            row.append(f"<td>{html.escape(cell_text(pd.Series(record), min_seeds))}</td>")
        rows.append("<tr>" + "".join(row) + "</tr>")
    return f"<table><tr><th>outcome (unit)</th>{head}</tr>{''.join(rows)}</table>"


def write_comparison_report(
    runs: pd.DataFrame, steps: pd.DataFrame, table: pd.DataFrame, path: Path
) -> list[tuple[str, go.Figure]]:
    """Write the page; return its figures (for export)."""
    seeds = int(runs.groupby("scenario")["seed"].nunique().min())
    named = comparison_figures(runs, steps)
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, (_, fig) in enumerate(named)
    ]
    warning = (
        f"<p class='warn'>{html.escape(few_seeds_warning(seeds))}</p>" if seeds < MIN_SEEDS else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>klaster: regime comparison</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border-bottom:1px solid #ddd;
padding:4px 10px;text-align:right}} td{{white-space:nowrap}} th:first-child{{text-align:left}}
.warn{{background:#fff4e5;border-left:4px solid #e69f00;padding:.5em 1em}}</style></head><body>
<h1>Regime comparison on the default world</h1>
<p>{len(runs)} runs: {runs["scenario"].nunique()} scenarios x {seeds} seeds. Each seed is one
world with one demand path, shared by every scenario (common random numbers), so the differences
from no policy below compare like with like. Regimes differ only in who decides, with what
information, for whom, and whether results are watched; every difference comes from those
mechanisms. Bands and intervals are 95% and shown from {MIN_SEEDS} seeds on.</p>
{warning}
{"".join(parts)}
<h2>Final-year outcomes</h2>
<p>Means over seeds with 95% t-intervals. Gains are cumulative value added gained over no policy
in the same world (same seed); for no policy itself they are the reference (zero by
construction). The value added index is each run's mean value added over its level at policy
start, minus 1. Every column of the tables beside this page is explained in columns.csv.</p>
{html_table(table)}
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return named
