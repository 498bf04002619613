"""The figures of both reports (``klaster report`` and ``klaster compare``), one small builder per
kind of figure, all with a title, axis titles with units and one regime palette.

Builders take tidy tables (already summarised by ``sim.report.analyses`` or the comparison) so
they hold no statistics of their own: what a figure shows is what the tables say. Intervals are
drawn as whiskers or as light bands under each mean line, and only from ``MIN_SEEDS`` runs on (a
band from fewer would claim a precision the runs do not have; the title says so instead).
``sim.report.export`` writes any of them as PNG (300 dpi), SVG and PDF.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.report.statistics import TOO_FEW
from sim.runner.numbers import MIN_SEEDS
from sim.runner.tables import heading

# One colour per regime, everywhere (colour-blind safe: Okabe-Ito); variants of a regime
# ("td+mix", "indonesia/top_down") take their regime's colour.
PALETTE = {
    "no_policy": "#7f7f7f",
    "top_down": "#d55e00",
    "demand_driven": "#e69f00",
    "bottom_up": "#009e73",
}
OTHERS = ("#0072b2", "#cc79a7", "#56b4e9", "#000000", "#f0e442")
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 13}
LAYOUT = {
    "template": "plotly_white",
    "height": 440,
    "margin": {"l": 70, "r": 20, "t": 90, "b": 60},
    "font": FONT,
    # above the plot, so the plot keeps the full width of a printed page
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    "title_font": {"size": 16},
}
QUARTER = "policy quarter (0 = policy start)"
BAND_OPACITY = 0.12


def wrap(title: str, width: int = 64) -> str:
    """A title broken into lines of at most ``width`` characters, so a 7-inch export keeps it."""
    lines, line = [], ""
    for word in title.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def finish(fig: go.Figure) -> go.Figure:
    """Stack the top of a figure so nothing overlaps whatever its content: the title (wrapped,
    pinned to the top), the legend under it, the panel titles under that, then the plot; the
    figure grows by what the stack needs beyond the usual margin."""
    title = fig.layout.title.text or ""
    lines = title.count("<br>") + 1 if title else 0
    named = [t for t in fig.data if t.showlegend is not False and t.name]
    legend = bool(named) and (len(named) > 1 or any(t.showlegend for t in named))
    panels = bool(fig.layout.annotations) and any(
        (a.yref or "").startswith("paper") and (a.y or 0) >= 1 for a in fig.layout.annotations
    )
    title_px = 14 + 22 * lines
    top = title_px + (32 if legend else 0) + (30 if panels else 0) + 14
    height = int(fig.layout.height or LAYOUT["height"]) + max(0, top - LAYOUT["margin"]["t"])
    fig.update_layout(
        height=height,
        margin={"t": top},
        title={"y": 1 - (title_px / 2 + 4) / height, "yanchor": "middle", "yref": "container"},
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1 - (title_px + 4) / height,
            "yanchor": "top",
            "yref": "container",
        },
    )
    return fig


def colour(name: str) -> str | None:
    """The regime colour of a scenario name (exact, or a variant ending in the regime's name)."""
    for key, value in PALETTE.items():
        if name == key or name.endswith(key):
            return value
    return None


def colours(names) -> dict[str, str]:
    """A colour for every name: regimes their own, anything else from ``OTHERS`` in turn."""
    result, spare = {}, 0
    for name in dict.fromkeys(map(str, names)):
        found = colour(name)
        if found is None:
            found = OTHERS[spare % len(OTHERS)]
            spare += 1
        result[name] = found
    return result


def axis_label(column: str, level: str = "aggregate") -> str:
    """An axis title with its unit from the column dictionary; quarters for ``step``."""
    return QUARTER if column == "step" else heading(column, level)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _banded(
    fig: go.Figure,
    x: pd.Series,
    mean: pd.Series,
    half: pd.Series | None,
    name: str,
    hue: str,
    legend: bool,
    row: int | None = None,
    col: int | None = None,
) -> None:
    """A mean line with a light band of +- ``half`` beneath it (no band when ``half`` is None)."""
    where = {"row": row, "col": col} if row is not None else {}
    if half is not None:
        fig.add_trace(
            go.Scatter(
                x=pd.concat([x, x[::-1]]),
                y=pd.concat([mean + half, (mean - half)[::-1]]),
                fill="toself",
                fillcolor=_rgba(hue, BAND_OPACITY),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
            ),
            **where,
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean,
            mode="lines",
            name=name,
            line={"color": hue, "width": 2},
            legendgroup=name,
            showlegend=legend,
        ),
        **where,
    )


def _band_note(runs: int) -> str:
    return (
        "mean, 95% band"
        if runs >= MIN_SEEDS
        else f"mean of {runs} runs; no band below {MIN_SEEDS} runs"
    )


def path_panels(
    steps: pd.DataFrame,
    columns: list[str],
    group: str,
    title: str,
    bands: bool = True,
) -> go.Figure:
    """One panel per outcome over policy quarters, a mean line per group with a light 95% band
    (normal approximation over runs; ``bands=False`` for levels, whose spread is between worlds
    rather than about the policy); the panel title names the outcome, its y axis the unit."""
    runs = int(steps.groupby(group)["seed"].nunique().min()) if "seed" in steps else 0
    banded = bands and runs >= MIN_SEEDS
    rows = (len(columns) + 1) // 2
    names = [heading(c, "aggregate").rsplit(" (", 1) for c in columns]
    fig = make_subplots(
        rows=rows,
        cols=2 if len(columns) > 1 else 1,
        subplot_titles=[n[0] for n in names],
        vertical_spacing=0.16 if rows > 1 else 0.1,
        horizontal_spacing=0.16,
    )
    hues = colours(steps[group])
    for i, column in enumerate(columns):
        row, col = divmod(i, 2)
        for name in dict.fromkeys(steps[group]):
            grouped = steps[steps[group] == name].groupby("step")[column]
            mean = grouped.mean()
            half = 1.96 * grouped.sem().fillna(0) if banded else None
            x = pd.Series(mean.index, dtype=float)
            _banded(
                fig,
                x,
                mean.reset_index(drop=True),
                None if half is None else half.reset_index(drop=True),
                str(name),
                hues[str(name)],
                i == 0,
                row + 1,
                col + 1,
            )
        unit = names[i][1].rstrip(")") if len(names[i]) > 1 else column
        fig.update_yaxes(title_text=unit, tickformat=",", row=row + 1, col=col + 1)
        fig.update_xaxes(title_text=QUARTER, row=row + 1, col=col + 1)
    fig.update_annotations(font_size=14)  # the panel titles
    note = _band_note(runs) if bands else f"mean of {runs} runs"
    fig.update_layout(title=wrap(f"{title} ({note})"), **dict(LAYOUT, height=330 * rows + 60))
    return finish(fig)


def _enough(table: pd.DataFrame) -> pd.Series:
    """Rows whose interval may be drawn: from ``MIN_SEEDS`` runs on (an ``n`` column) and not
    marked as resting on too few seeds (a ``verdict`` column)."""
    enough = pd.Series(True, index=table.index)
    if "n" in table:
        enough &= table["n"] >= MIN_SEEDS
    if "verdict" in table:
        enough &= table["verdict"] != TOO_FEW
    return enough


def distributions(
    outcomes: pd.DataFrame,
    column: str,
    order: list[str],
    intervals: pd.DataFrame,
    title: str,
    yaxis: str | None = None,
) -> go.Figure:
    """Per-scenario box of run values with the mean and its bootstrap interval beside it (the
    interval only from ``MIN_SEEDS`` runs on)."""
    fig = go.Figure()
    hues = colours(order)
    for name in order:
        values = outcomes.loc[outcomes["scenario"] == name, column]
        fig.add_trace(
            go.Box(
                y=values,
                name=name,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 4, "color": hues[name]},
                line={"color": hues[name]},
                showlegend=False,
            )
        )
    ci = intervals.set_index("scenario").reindex(order)
    shown = _enough(ci)
    fig.add_trace(
        go.Scatter(
            x=order,
            y=ci["mean"],
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": "black"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (ci["high"] - ci["mean"]).where(shown, 0),
                "arrayminus": (ci["mean"] - ci["low"]).where(shown, 0),
            },
            name=f"mean, 95% CI (CI shown from {MIN_SEEDS} runs)",
        )
    )
    fig.update_layout(
        title=wrap(title),
        yaxis_title=yaxis or axis_label(column, "summary"),
        xaxis_title="scenario",
        **LAYOUT,
    )
    return finish(fig)


def interval_bars(
    table: pd.DataFrame,
    label: str,
    title: str,
    xaxis: str,
    colour_by: str | None = None,
    yaxis: str | None = None,
) -> go.Figure:
    """Horizontal bars of estimates with interval whiskers (effect sizes, decomposition); bars
    resting on fewer than ``MIN_SEEDS`` runs (an ``n`` column) have no whisker."""
    table = table.iloc[::-1]
    hues = (
        [colour(str(v)) or OTHERS[0] for v in table[colour_by]]
        if colour_by
        else ["#009e73" if v > 0 else "#d55e00" for v in table["estimate"]]
    )
    shown = _enough(table)
    fig = go.Figure(
        go.Bar(
            x=table["estimate"],
            y=table[label],
            orientation="h",
            marker_color=hues,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (table["high"] - table["estimate"]).where(shown, 0),
                "arrayminus": (table["estimate"] - table["low"]).where(shown, 0),
            },
        )
    )
    fig.add_vline(x=0, line_color="black", line_width=1)
    layout = dict(LAYOUT, height=max(340, 34 * len(table) + 140))
    fig.update_layout(
        title=wrap(title), xaxis_title=xaxis, yaxis_title=yaxis or label.replace("_", " "), **layout
    )
    return finish(fig)


def stability(table: pd.DataFrame, title: str) -> go.Figure:
    """Relative CI half-width of the mean against the number of runs, per scenario."""
    fig = go.Figure()
    hues = colours(table["scenario"])
    for name, group in table.groupby("scenario", sort=False):
        fig.add_trace(
            go.Scatter(
                x=group["n"],
                y=group["relative_half_width"],
                mode="lines+markers",
                name=str(name),
                line={"color": hues[str(name)]},
            )
        )
    fig.update_layout(
        title=wrap(title),
        xaxis_title="runs (seeds) n",
        yaxis_title="95% CI half-width / |mean| (ratio)",
        **LAYOUT,
    )
    return finish(fig)


def trajectories(
    table: pd.DataFrame,
    x: str,
    y: str,
    group: str,
    title: str,
    yaxis: str,
    facet: str | None = None,
    bands: bool = True,
) -> go.Figure:
    """Mean paths, one line per group with a light 95% band (mean +- 1.96 se over runs) from
    ``MIN_SEEDS`` runs on; one panel per ``facet`` value. ``bands=False`` for levels, whose
    spread is mostly between worlds (the paired contrasts carry the uncertainty)."""
    facets = [None] if facet is None else list(pd.unique(table[facet]))
    fig = make_subplots(
        rows=1,
        cols=len(facets),
        shared_yaxes=True,
        subplot_titles=[f"{facet.replace('_', ' ')} = {f}" for f in facets] if facet else None,
    )
    hues = colours(table[group])
    fewest = None
    for col, value in enumerate(facets, start=1):
        part = table if facet is None else table[table[facet] == value]
        for name, g in part.groupby(group, sort=False):
            stats = g.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
            runs = int(stats["count"].min()) if len(stats) else 0
            fewest = runs if fewest is None else min(fewest, runs)
            se = stats["std"].fillna(0) / np.sqrt(stats["count"].clip(lower=1))
            _banded(
                fig,
                stats[x],
                stats["mean"],
                1.96 * se if bands and runs >= MIN_SEEDS else None,
                str(name),
                hues[str(name)],
                col == 1,
                1,
                col,
            )
        fig.update_xaxes(title_text=axis_label(x), row=1, col=col)
    fig.update_yaxes(title_text=yaxis, row=1, col=1)
    note = _band_note(fewest or 0) if bands else f"mean of {fewest or 0} runs"
    fig.update_layout(title=wrap(f"{title} ({note})"), **LAYOUT)
    return finish(fig)


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
    fig = make_subplots(
        rows=1,
        cols=len(facets),
        subplot_titles=[f"{_parameter(facet)} = {f}" for f in facets],
    )
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
                colorbar={"title": {"text": colour_title}},
                showscale=col == len(facets),
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=_parameter(x), row=1, col=col)
        fig.update_yaxes(title_text=_parameter(y), row=1, col=col)
    fig.update_layout(title=wrap(title), **dict(LAYOUT, height=400))
    return finish(fig)


def _parameter(name: str) -> str:
    """A parameter path as an axis title: ``policy.planning_quality`` -> planning quality."""
    return name.rsplit(".", 1)[-1].replace("_", " ")


def grouped_bars(
    table: pd.DataFrame, x: str, group: str, title: str, yaxis: str, xaxis: str | None = None
) -> go.Figure:
    """Bars of estimates with interval whiskers, grouped (e.g. regime x shock size)."""
    fig = go.Figure()
    hues = colours(table[group])
    for name, g in table.groupby(group, sort=False):
        shown = _enough(g)
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in g[x]],
                y=g["estimate"],
                name=str(name),
                marker_color=hues[str(name)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (g["high"] - g["estimate"]).where(shown, 0),
                    "arrayminus": (g["estimate"] - g["low"]).where(shown, 0),
                },
            )
        )
    fig.update_layout(
        title=wrap(title),
        barmode="group",
        yaxis_title=yaxis,
        xaxis_title=xaxis or x.replace("_", " "),
        **LAYOUT,
    )
    return finish(fig)


def sensitivity_bars(table: pd.DataFrame, title: str, measures: list[str]) -> go.Figure:
    """Morris mu* or Sobol S1/ST per factor, one panel per outcome, with confidence whiskers."""
    outcomes = list(pd.unique(table["outcome"]))
    fig = make_subplots(
        rows=1,
        cols=len(outcomes),
        subplot_titles=[heading(o) for o in outcomes],
        shared_yaxes=True,
    )
    hues = ["#0072b2", "#e69f00", "#009e73"]
    for col, outcome in enumerate(outcomes, start=1):
        part = table[table["outcome"] == outcome]
        for k, measure in enumerate(measures):
            fig.add_trace(
                go.Bar(
                    y=part["factor"],
                    x=part[measure],
                    orientation="h",
                    name=measure,
                    marker_color=hues[k % 3],
                    showlegend=col == 1,
                    error_x={"type": "data", "array": part[f"{measure}_conf"]},
                ),
                row=1,
                col=col,
            )
        unit = "share of variance" if any(m.startswith("S") for m in measures) else "index"
        fig.update_xaxes(title_text=f"{', '.join(measures)} ({unit})", row=1, col=col)
    fig.update_yaxes(title_text="factor (scenario parameter)", row=1, col=1)
    height = max(400, 30 * table["factor"].nunique() + 160)
    fig.update_layout(
        title=wrap(title),
        barmode="group",
        **dict(LAYOUT, height=height),
    )
    return finish(fig)


def box_by_group(
    runs: pd.DataFrame, column: str, group: str, title: str, yaxis: str | None = None
) -> go.Figure:
    """One box of run values per group, every run shown as a point."""
    fig = go.Figure()
    hues = colours(runs[group])
    for name, part in runs.groupby(group, sort=False):
        fig.add_trace(
            go.Box(
                y=part[column],
                name=str(name),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 5, "color": hues[str(name)]},
                line={"color": hues[str(name)]},
                showlegend=False,
            )
        )
    fig.update_layout(
        title=wrap(title),
        yaxis_title=yaxis or axis_label(column, "summary"),
        xaxis_title=group,
        **LAYOUT,
    )
    return finish(fig)


def missing_titles(fig: go.Figure) -> list[str]:
    """What a figure lacks for print: its title, or the title of an axis a trace is drawn on
    (an axis sharing another's range, ``matches``, may go without)."""
    missing = [] if (fig.layout.title.text or "").strip() else ["title"]
    used = set()
    for trace in fig.data:
        if getattr(trace, "type", "") in ("pie", "table"):
            continue
        used.add(("xaxis", getattr(trace, "xaxis", None) or "x"))
        used.add(("yaxis", getattr(trace, "yaxis", None) or "y"))
    for kind, ref in sorted(used):
        name = kind + ref[1:]
        axis = fig.layout[name]
        if axis.matches or (axis.title.text or "").strip():
            continue
        missing.append(name)
    return missing
