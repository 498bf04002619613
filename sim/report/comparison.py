"""A self-contained HTML page for `klaster compare`: trajectories and the comparison table.

plotly.js is written inline once, so the page opens offline.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.runner.compare import BASELINE, TABLE_OUTCOMES

TRAJECTORIES = (
    ("value_added", "Value added per quarter"),
    ("market_share", "Market share vs outside competitors"),
    ("employment", "Employment"),
    ("vertical_linkage", "Inputs sourced inside the cluster"),
)
PALETTE = ("#636363", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")


def paired_differences(steps: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Each run's trajectory minus the baseline run with the same seed (same world, same demand
    path): what the policy changed, without the spread between worlds."""
    columns = [column for column, _ in TRAJECTORIES]
    base = steps[steps["scenario"] == baseline].set_index(["seed", "step"])[columns]
    others = steps[steps["scenario"] != baseline]
    joined = others.join(base, on=["seed", "step"], rsuffix="_baseline")
    for column in columns:
        joined[column] = joined[column] - joined[f"{column}_baseline"]
    return joined[["scenario", "seed", "step", *columns]]


def trajectories_figure(steps: pd.DataFrame, title: str, colours: dict[str, str]) -> go.Figure:
    """Mean over seeds with a 95% band (normal approximation) per scenario."""
    figure = make_subplots(rows=2, cols=2, subplot_titles=[label for _, label in TRAJECTORIES])
    for i, (column, _) in enumerate(TRAJECTORIES):
        row, col = divmod(i, 2)
        for scenario in dict.fromkeys(steps["scenario"]):
            grouped = steps[steps["scenario"] == scenario].groupby("step")[column]
            mean, sem = grouped.mean(), grouped.sem().fillna(0)
            colour = colours[scenario]
            figure.add_trace(
                go.Scatter(
                    x=list(mean.index) + list(mean.index[::-1]),
                    y=list(mean + 1.96 * sem) + list((mean - 1.96 * sem)[::-1]),
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.15,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=row + 1,
                col=col + 1,
            )
            figure.add_trace(
                go.Scatter(
                    x=mean.index,
                    y=mean,
                    name=scenario,
                    line={"color": colour},
                    legendgroup=scenario,
                    showlegend=i == 0,
                ),
                row=row + 1,
                col=col + 1,
            )
    figure.update_xaxes(title_text="policy quarter")
    figure.update_layout(height=700, template="plotly_white", title=title)
    return figure


def gain_figure(runs: pd.DataFrame) -> go.Figure:
    policy = runs[runs["budget_spent"] > 0]
    figure = go.Figure()
    for j, (scenario, group) in enumerate(policy.groupby("scenario", sort=False)):
        figure.add_trace(
            go.Box(
                y=group["va_gain_per_budget"],
                name=scenario,
                boxpoints="all",
                marker_color=PALETTE[(j + 1) % len(PALETTE)],
            )
        )
    figure.update_layout(
        template="plotly_white",
        title="Value added gained over no policy (same seed) per unit of budget",
        yaxis_title="VA gain / budget",
        height=450,
    )
    return figure


def html_table(table: pd.DataFrame) -> str:
    """Outcomes as rows, scenarios as columns: mean with its interval beneath."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    outcomes = [o for o in TABLE_OUTCOMES if o in set(table["outcome"])]
    cells = table.set_index(["outcome", "scenario"])
    head = "".join(f"<th>{html.escape(s)}</th>" for s in scenarios)
    rows = []
    for outcome in outcomes:
        row = [f"<th>{html.escape(outcome)}</th>"]
        for scenario in scenarios:
            if (outcome, scenario) not in cells.index:
                row.append("<td></td>")
                continue
            mean, low, high = cells.loc[(outcome, scenario), ["mean", "ci_low", "ci_high"]]
            if np.isnan(mean):
                row.append("<td>n/a</td>")
            elif np.isnan(low):
                row.append(f"<td>{mean:.4g}</td>")
            else:
                row.append(f"<td>{mean:.4g}<br><small>[{low:.4g}, {high:.4g}]</small></td>")
        rows.append("<tr>" + "".join(row) + "</tr>")
    return f"<table><tr><th>outcome</th>{head}</tr>{''.join(rows)}</table>"


def write_comparison_report(
    runs: pd.DataFrame, steps: pd.DataFrame, table: pd.DataFrame, path: Path
) -> None:
    seeds = runs.groupby("scenario")["seed"].nunique().min()
    scenarios = list(dict.fromkeys(steps["scenario"]))
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(scenarios)}
    figures = [trajectories_figure(steps, "Trajectories (mean over seeds, 95% band)", colours)]
    if BASELINE in scenarios and len(scenarios) > 1:
        figures.append(
            trajectories_figure(
                paired_differences(steps),
                "Difference from no policy in the same world (same seed): mean, 95% band",
                colours,
            )
        )
    figures.append(gain_figure(runs))
    parts = [
        figure.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, figure in enumerate(figures)
    ]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>klaster: regime comparison</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border-bottom:1px solid #ddd;
padding:4px 10px;text-align:right}} th:first-child{{text-align:left}}
small{{color:#666}}</style></head><body>
<h1>Regime comparison on the default world</h1>
<p>{len(runs)} runs: {runs["scenario"].nunique()} scenarios x {seeds} seeds. Each seed is one
world with one demand path, shared by every scenario (common random numbers), so the differences
from no policy below compare like with like. Regimes differ only in who decides, with what
information, for whom, and whether results are watched; every difference comes from those
mechanisms.</p>
{"".join(parts)}
<h2>Final-year outcomes</h2>
<p>Means over seeds with 95% t-intervals; va_gain_per_budget is cumulative value added gained
over no policy in the same world, per unit of budget spent.</p>
{html_table(table)}
</body></html>"""
    path.write_text(page, encoding="utf-8")
