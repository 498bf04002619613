"""A self-contained HTML page for `klaster compare`: trajectories and the comparison table.

plotly.js is written inline once, so the page opens offline.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.comparison import format_table

TRAJECTORIES = (
    ("value_added", "Value added per quarter"),
    ("market_share", "Market share vs outside competitors"),
    ("employment", "Employment"),
    ("vertical_linkage", "Inputs sourced inside the cluster"),
)
PALETTE = ("#636363", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")


def trajectories_figure(steps: pd.DataFrame) -> go.Figure:
    """Mean over seeds with a 95% band (normal approximation) per scenario."""
    figure = make_subplots(rows=2, cols=2, subplot_titles=[title for _, title in TRAJECTORIES])
    scenarios = list(dict.fromkeys(steps["scenario"]))
    for i, (column, _) in enumerate(TRAJECTORIES):
        row, col = divmod(i, 2)
        for j, scenario in enumerate(scenarios):
            grouped = steps[steps["scenario"] == scenario].groupby("step")[column]
            mean, sem = grouped.mean(), grouped.sem().fillna(0)
            colour = PALETTE[j % len(PALETTE)]
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
    figure.update_layout(height=700, template="plotly_white", title="Trajectories (mean, 95% band)")
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


def write_comparison_report(
    runs: pd.DataFrame, steps: pd.DataFrame, table: pd.DataFrame, path: Path
) -> None:
    seeds = runs.groupby("scenario")["seed"].nunique().min()
    parts = [
        trajectories_figure(steps).to_html(full_html=False, include_plotlyjs=True),
        gain_figure(runs).to_html(full_html=False, include_plotlyjs=False),
    ]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>klaster: regime comparison</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
pre{{font-size:12px;overflow-x:auto;background:#f6f6f6;padding:1em}}</style></head><body>
<h1>Regime comparison on the default world</h1>
<p>{len(runs)} runs: {runs["scenario"].nunique()} scenarios x {seeds} seeds. Means over seeds with
95% t-intervals. Regimes differ only in who decides, with what information, for whom, and whether
results are watched; every difference below comes from those mechanisms.</p>
{parts[0]}{parts[1]}
<h2>Final-year outcomes</h2><pre>{html.escape(format_table(table))}</pre>
</body></html>"""
    path.write_text(page, encoding="utf-8")
