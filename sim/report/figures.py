"""Plotly figure builders, one small function per kind of figure the report shows.

Builders take tidy tables (already summarised by ``sim.report.analyses``) so they hold no
statistics of their own: what a figure shows is what the tables say.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = {
    "no_policy": "#7f7f7f",
    "top_down": "#d62728",
    "demand_driven": "#ff7f0e",
    "bottom_up": "#2ca02c",
}
LAYOUT = {"template": "plotly_white", "height": 420, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def colour(name: str) -> str | None:
    for key, value in PALETTE.items():
        if name.endswith(key) or name == key:
            return value
    return None


def distributions(
    outcomes: pd.DataFrame, column: str, order: list[str], intervals: pd.DataFrame, title: str
) -> go.Figure:
    """Per-scenario box of run values with the mean and its bootstrap interval beside it."""
    fig = go.Figure()
    for name in order:
        values = outcomes.loc[outcomes["scenario"] == name, column]
        fig.add_trace(
            go.Box(
                y=values,
                name=name,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 4, "color": colour(name)},
                line={"color": colour(name)},
                showlegend=False,
            )
        )
    ci = intervals.set_index("scenario").reindex(order)
    fig.add_trace(
        go.Scatter(
            x=order,
            y=ci["mean"],
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": "black"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": ci["high"] - ci["mean"],
                "arrayminus": ci["mean"] - ci["low"],
            },
            name="mean, 95% CI",
        )
    )
    fig.update_layout(title=title, yaxis_title=column, **LAYOUT)
    return fig


def interval_bars(
    table: pd.DataFrame, label: str, title: str, xaxis: str, colour_by: str | None = None
) -> go.Figure:
    """Horizontal bars of estimates with interval whiskers (effect sizes, decomposition)."""
    table = table.iloc[::-1]
    colours = (
        [colour(str(v)) or "#1f77b4" for v in table[colour_by]]
        if colour_by
        else ["#2ca02c" if v > 0 else "#d62728" for v in table["estimate"]]
    )
    fig = go.Figure(
        go.Bar(
            x=table["estimate"],
            y=table[label],
            orientation="h",
            marker_color=colours,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": table["high"] - table["estimate"],
                "arrayminus": table["estimate"] - table["low"],
            },
        )
    )
    fig.add_vline(x=0, line_color="black", line_width=1)
    layout = dict(LAYOUT, height=max(320, 34 * len(table) + 120))
    fig.update_layout(title=title, xaxis_title=xaxis, **layout)
    return fig


def stability(table: pd.DataFrame, title: str) -> go.Figure:
    """Relative CI half-width of the mean against the number of runs, per scenario."""
    fig = go.Figure()
    for name, group in table.groupby("scenario", sort=False):
        fig.add_trace(
            go.Scatter(
                x=group["n"],
                y=group["relative_half_width"],
                mode="lines+markers",
                name=str(name),
                line={"color": colour(str(name))},
            )
        )
    fig.update_layout(
        title=title, xaxis_title="runs (seeds) n", yaxis_title="CI half-width / mean", **LAYOUT
    )
    return fig


def trajectories(
    table: pd.DataFrame,
    x: str,
    y: str,
    group: str,
    title: str,
    yaxis: str,
    facet: str | None = None,
) -> go.Figure:
    """Mean paths with a 95% band (mean +- 1.96 se over runs), one line per group."""
    facets = [None] if facet is None else list(pd.unique(table[facet]))
    fig = make_subplots(
        rows=1,
        cols=len(facets),
        shared_yaxes=True,
        subplot_titles=[f"{facet} = {f}" for f in facets] if facet else None,
    )
    for col, value in enumerate(facets, start=1):
        part = table if facet is None else table[table[facet] == value]
        for name, g in part.groupby(group, sort=False):
            stats = g.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
            se = stats["std"].fillna(0) / np.sqrt(stats["count"].clip(lower=1))
            c = colour(str(name)) or None
            fig.add_trace(
                go.Scatter(
                    x=pd.concat([stats[x], stats[x][::-1]]),
                    y=pd.concat([stats["mean"] + 1.96 * se, (stats["mean"] - 1.96 * se)[::-1]]),
                    fill="toself",
                    line={"width": 0},
                    fillcolor=c,
                    opacity=0.15,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=stats[x],
                    y=stats["mean"],
                    mode="lines",
                    name=str(name),
                    line={"color": c},
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_layout(title=title, yaxis_title=yaxis, **LAYOUT)
    return fig


def heatmaps(
    table: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    text: str,
    facet: str,
    title: str,
    colour_title: str,
) -> go.Figure:
    """One heatmap per facet value, cells coloured by ``value`` and labelled with ``text``."""
    facets = sorted(table[facet].unique())
    fig = make_subplots(rows=1, cols=len(facets), subplot_titles=[f"{facet} = {f}" for f in facets])
    limit = float(np.nanmax(np.abs(table[value]))) if len(table) else 1.0
    for col, f in enumerate(facets, start=1):
        part = table[table[facet] == f]
        grid = part.pivot(index=y, columns=x, values=value)
        labels = part.pivot(index=y, columns=x, values=text)
        fig.add_trace(
            go.Heatmap(
                z=grid.to_numpy(),
                x=[str(v) for v in grid.columns],
                y=[str(v) for v in grid.index],
                text=labels.to_numpy(),
                texttemplate="%{text}",
                colorscale="RdYlGn",
                zmid=0,
                zmin=-limit,
                zmax=limit,
                colorbar={"title": colour_title},
                showscale=col == len(facets),
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=x, row=1, col=col)
    fig.update_yaxes(title_text=y, row=1, col=1)
    fig.update_layout(title=title, **dict(LAYOUT, height=380))
    return fig


def grouped_bars(table: pd.DataFrame, x: str, group: str, title: str, yaxis: str) -> go.Figure:
    """Bars of estimates with interval whiskers, grouped (e.g. regime x shock size)."""
    fig = go.Figure()
    for name, g in table.groupby(group, sort=False):
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in g[x]],
                y=g["estimate"],
                name=str(name),
                marker_color=colour(str(name)),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": g["high"] - g["estimate"],
                    "arrayminus": g["estimate"] - g["low"],
                },
            )
        )
    fig.update_layout(title=title, barmode="group", yaxis_title=yaxis, xaxis_title=x, **LAYOUT)
    return fig


def sensitivity_bars(table: pd.DataFrame, title: str, measures: list[str]) -> go.Figure:
    """Morris mu* or Sobol S1/ST per factor, one panel per outcome, with confidence whiskers."""
    outcomes = list(pd.unique(table["outcome"]))
    fig = make_subplots(rows=1, cols=len(outcomes), subplot_titles=outcomes, shared_yaxes=True)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    for col, outcome in enumerate(outcomes, start=1):
        part = table[table["outcome"] == outcome]
        for k, measure in enumerate(measures):
            fig.add_trace(
                go.Bar(
                    y=part["factor"],
                    x=part[measure],
                    orientation="h",
                    name=measure,
                    marker_color=colours[k % 3],
                    showlegend=col == 1,
                    error_x={"type": "data", "array": part[f"{measure}_conf"]},
                ),
                row=1,
                col=col,
            )
    fig.update_layout(
        title=title,
        barmode="group",
        **dict(LAYOUT, height=max(380, 30 * table["factor"].nunique())),
    )
    return fig
