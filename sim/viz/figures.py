"""Pure functions from model state to plotly figures and tables: the views without a browser.

Kept free of solara so each view can be unit-tested (and reused in reports) on a bare model.
No geo/map traces: those fetch map tiles and topojson from a CDN, and the view must work offline.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.model.outcomes import lookup
from sim.scenario.codes import CLUSTER_TYPES
from sim.scenario.presets import BASELINE, PRESET_LABELS

STAGE_NAMES: tuple[str, ...] = ("upstream supplier", "producer", "downstream trader")
STAGE_COLOURS: tuple[str, ...] = ("#8c6d31", "#3182bd", "#31a354")
TYPE_COLOURS: dict[str, str] = {
    "dormant": "#bdbdbd",
    "active": "#fdae6b",
    "dynamic": "#e6550d",
    "advanced": "#7f2704",
}
COORDINATOR_NAMES: tuple[str, ...] = ("none", "emergent", "appointed")
VERTICAL_COLOUR = "#4a6fa5"
HORIZONTAL_COLOUR = "#e6550d"
BASELINE_COLOUR = "#8a8a8a"
REGIME_COLOUR = "#1f77b4"

SUPPORTED_NOT_DESIGNATED = "supported, not designated"
HEADLINES: tuple[tuple[str, str], ...] = (  # column, panel title (unit: from sim.model.outcomes)
    ("value_added", "Value added"),
    ("employment", "Employment"),
    ("va_per_worker", "Value added per worker"),
    ("market_share_export", "Export market share"),
    ("vertical_linkage", "Vertical linkage (local inputs)"),
    ("firms", "Firms alive"),
)


QUARTER_AXIS = "quarter since policy start"
SHORT_UNITS: dict[str, str] = {  # the registry's units, shortened to fit a small axis
    "wage units per quarter": "wage units / quarter",
    "wage units per worker per quarter": "wage units / worker",
    "output units per worker per quarter": "output / worker",
    "share 0-1": "share (0-1)",
}


def unit(column: str, level: str = "aggregate") -> str:
    """The unit of a registry column (``sim.model.outcomes``); empty when undeclared."""
    outcome = lookup(column, level)
    return "" if outcome is None else outcome.unit


def short_unit(column: str, level: str = "aggregate") -> str:
    full = unit(column, level)
    return SHORT_UNITS.get(full, full)


def panel_title(column: str, title: str) -> str:
    """A headline panel's title with the column's unit from the outcome registry, in grey."""
    outcome = lookup(column, "aggregate")
    if outcome is None:
        return title
    return f"{title} <span style='color:#888;font-size:9px'>({outcome.unit})</span>"


Spec = dict[str, Any]  # a figure as plotly's JSON: {"data": [trace, ...], "layout": {...}}


def plain(value: Any) -> Any:
    """Plain Python lists and numbers: what a widget sends as JSON, with no numpy left inside
    (numpy arrays in a widget's state break ipywidgets' echo check, ``array == array`` having
    no truth value, when the browser reports a relayout)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub" or (value.dtype.kind == "f" and np.isfinite(value).all()):
            return value.tolist()
        return plain(value.tolist())  # objects, NaN or infinities: item by item
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; plotly draws a gap
    return value


def figure_spec(data: list[dict[str, Any]], layout: dict[str, Any]) -> Spec:
    """A figure as plain JSON. The views build these rather than ``go.Figure``s: plotly's
    validation of every property costs tens of milliseconds a figure, at every step."""
    return plain({"data": data, "layout": layout})


def as_figure(spec: Spec) -> go.Figure:
    """The spec as a validated plotly figure (for tests, exports and notebooks)."""
    return go.Figure(spec)


# No named template: "plotly_white" is deep-copied and re-validated on every figure (~20 ms each,
# every step); a few explicit colours give the same look.
AXIS_STYLE: dict[str, Any] = {
    "gridcolor": "#ebebeb",
    "zerolinecolor": "#d0d0d0",
    "linecolor": "#ccc",
}
LAYOUT: dict[str, Any] = {
    "template": "none",
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "margin": {"l": 40, "r": 10, "t": 40, "b": 30},
    "font": {"size": 11},
    "uirevision": "keep",  # keep the user's zoom and legend toggles across steps
}


# --- cluster map -----------------------------------------------------------------------------
def region_grid(n_regions: int) -> tuple[int, int]:
    """Columns and rows of the region blocks: near square, wider than tall."""
    cols = max(1, math.ceil(math.sqrt(n_regions * 1.5)))
    return cols, max(1, math.ceil(n_regions / cols))


def cluster_positions(region: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable x, y per cluster: a sunflower of its region's clusters inside the region's block.

    Clusters have no coordinates in the model; this is a schematic map, and it must not move
    between steps, so positions depend only on the region and the cluster's rank in it.
    """
    cols, _ = region_grid(n_regions)
    x = np.zeros(len(region))
    y = np.zeros(len(region))
    golden = math.pi * (3 - math.sqrt(5))
    for r in range(n_regions):
        members = np.flatnonzero(region == r)
        k = np.arange(len(members))
        radius = 0.42 * np.sqrt((k + 0.5) / max(len(members), 1))
        x[members] = (r % cols) + radius * np.cos(k * golden)
        y[members] = -(r // cols) + radius * np.sin(k * golden)
    return x, y


def _competitiveness(table: pd.DataFrame) -> pd.Series:
    """Value added per worker: the measure that is comparable across cluster sizes."""
    return table["va_per_worker"]


def cluster_map(model: Any, colour_by: str = "competitiveness", width: int | None = None) -> Spec:
    """Clusters by region; size = firms, colour = competitiveness or type, mark = policy status."""
    table = model.cluster_table()
    clusters = model.clusters
    n_regions = len(model.regions.capacity)
    x, y = cluster_positions(np.asarray(clusters.region), n_regions)
    firms = table["firms"].to_numpy()
    size = 6 + 4 * np.sqrt(np.maximum(firms, 0))
    type_names = [CLUSTER_TYPES[int(t)] for t in clusters.cluster_type]
    designated = np.asarray(clusters.selected, dtype=bool)
    supported = np.asarray(clusters.support_total) > 0
    custom = np.column_stack(
        [
            table["cluster"],  # first: a click on a marker names its cluster
            table["name"],
            table["product"],
            table["region"],
            firms.astype(int),
            table["employment"].round(0),
            type_names,
            [COORDINATOR_NAMES[int(c)] for c in clusters.coordinator],
            table["support"].round(1),
            table["support_total"].round(1),
            table["va_per_worker"].round(2),
            (100 * table["export_share"]).round(0),
        ]
    )
    hover = (
        "<b>%{customdata[1]}</b> (%{customdata[2]}, region %{customdata[3]})<br>"
        "%{customdata[4]} firms, %{customdata[5]} workers, %{customdata[6]}<br>"
        "coordinator: %{customdata[7]}<br>"
        "support this quarter %{customdata[8]}, so far %{customdata[9]} (wage units)<br>"
        "VA per worker %{customdata[10]} (wage units), export share %{customdata[11]}%"
        "<br>click for the cluster's detail<extra></extra>"
    )
    traces: list[dict[str, Any]] = []
    shapes, notes = _region_blocks(model, n_regions)
    groups = (
        ("designated", designated, "diamond", 2.5),
        (SUPPORTED_NOT_DESIGNATED, supported & ~designated, "circle", 2.5),
        ("no support so far", ~supported & ~designated, "circle", 0.5),
    )
    for label, mask, symbol, line_width in groups:
        marker: dict[str, Any] = {
            "size": size[mask],
            "symbol": symbol,
            "line": {"width": line_width, "color": "#111" if line_width > 1 else "#fff"},
            "opacity": 0.9,
        }
        if colour_by == "type":
            marker["color"] = [TYPE_COLOURS[t] for t in np.asarray(type_names)[mask]]
        else:
            marker["color"] = _competitiveness(table).to_numpy()[mask]
            marker["coloraxis"] = "coloraxis"
        # Always three traces (possibly empty) so the view can update them in place each step.
        traces.append(
            dict(
                type="scatter",
                x=x[mask],
                y=y[mask],
                mode="markers",
                name=label,
                marker=marker,
                customdata=custom[mask],
                hovertemplate=hover,
                showlegend=False,
            )
        )
        traces.append(  # legend entry in neutral grey: the markers' colour means something else
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=f"{label} ({int(mask.sum())})",
                marker={
                    "symbol": symbol,
                    "size": 11,
                    "color": "#cfcfcf",
                    "line": {"width": line_width, "color": "#111" if line_width > 1 else "#999"},
                },
            )
        )
    if colour_by == "type":
        for name, colour in TYPE_COLOURS.items():  # legend entries for the type colours
            traces.append(
                dict(
                    type="scatter",
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=name,
                    marker={"color": colour, "size": 10},
                    legendgroup="types",
                )
            )
    values = _competitiveness(table)
    layout = dict(
        **LAYOUT,
        title={"text": f"Clusters by region - quarter {model.steps}", "x": 0.01},
        height=440,
        width=width,
        shapes=shapes,
        annotations=notes,
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.02, "x": 0.0},
        coloraxis={
            "colorscale": "Viridis",
            "cmin": float(np.nanmin(model.start_table["va_per_worker"]) * 0.8)
            if hasattr(model, "start_table")
            else float(values.min()),
            "cmax": float(np.nanmax(model.start_table["va_per_worker"]) * 1.2)
            if hasattr(model, "start_table")
            else float(values.max()),
            "colorbar": {
                "title": {"text": "VA per worker<br>(wage units)", "font": {"size": 10}},
                "thickness": 10,
                "len": 0.7,
            },
        },
    )
    return figure_spec(traces, layout)


def _region_blocks(model: Any, n_regions: int) -> tuple[list[dict], list[dict]]:
    """One shaded block per region; darker where the regional government can deliver more.

    Returned as plain layout dicts: ``fig.add_shape`` validates one at a time and costs ~2 ms each.
    """
    cols, _ = region_grid(n_regions)
    capacity = np.asarray(model.regions.capacity)
    shapes, notes = [], []
    for r in range(n_regions):
        cx, cy = r % cols, -(r // cols)
        shapes.append(
            dict(
                type="rect",
                x0=cx - 0.48,
                x1=cx + 0.48,
                y0=cy - 0.48,
                y1=cy + 0.48,
                line={"width": 0},
                fillcolor=f"rgba(49,130,189,{0.05 + 0.2 * float(capacity[r]):.3f})",
                layer="below",
            )
        )
        notes.append(
            dict(
                x=cx - 0.46,
                y=cy + 0.46,
                text=f"region {r}<br>capacity {capacity[r]:.2f}",
                showarrow=False,
                xanchor="left",
                yanchor="top",
                font={"size": 9, "color": "#555"},
            )
        )
    return shapes, notes


# --- firm network ----------------------------------------------------------------------------
def default_cluster(model: Any) -> int:
    """The cluster to show first: the largest designated or supported one, else the largest."""
    table = model.cluster_table()
    policy = (np.asarray(model.clusters.selected) > 0) | (table["support_total"].to_numpy() > 0)
    candidates = table[policy] if policy.any() else table
    return int(candidates.sort_values("firms", ascending=False)["cluster"].iloc[0])


def cluster_choices(model: Any) -> dict[str, int]:
    """Label -> cluster index for the cluster picker: names only, largest at policy start first,
    so neither the labels nor their order move while the model steps."""
    start = getattr(model, "start_table", None)
    table = start if start is not None else model.cluster_table()
    table = table.sort_values(["firms", "cluster"], ascending=[False, True], kind="stable")
    return {str(row.name): int(row.cluster) for row in table.itertuples(index=False)}


def network_edges(model: Any, cluster: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Ties inside one cluster, by kind: vertical (producer to supplier or trader), horizontal."""
    f = model.firms
    inside = f.alive & (f.cluster == cluster)
    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    vertical_a, vertical_b = [], []
    for column in (f.supplier, f.trader):
        src = np.flatnonzero(inside & (column >= 0))
        dst = column[src]
        ok = inside[dst]
        vertical_a.append(src[ok])
        vertical_b.append(dst[ok])
    edges["vertical"] = (np.concatenate(vertical_a), np.concatenate(vertical_b))
    a, b = model.ties.pairs()
    keep = inside[a] & inside[b]
    edges["horizontal"] = (a[keep], b[keep])
    return edges


def firm_positions(model: Any, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = value-chain stage (with a stable per-firm offset), y = productivity."""
    f = model.firms
    uid = f.uid[slots].astype(np.float64)
    jitter = ((uid * 0.6180339887) % 1.0) - 0.5
    return f.stage[slots] + 0.6 * jitter, f.productivity[slots]


def _segments(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[list, list]:
    """Edge list -> one polyline with None breaks: one trace for thousands of edges."""
    xs = np.column_stack([x[a], x[b], np.full(len(a), np.nan)]).ravel()
    ys = np.column_stack([y[a], y[b], np.full(len(a), np.nan)]).ravel()
    return [None if np.isnan(v) else float(v) for v in xs], [
        None if np.isnan(v) else float(v) for v in ys
    ]


def firm_network(model: Any, cluster: int | None = None, width: int | None = None) -> Spec:
    """The firms of one cluster by value-chain stage, vertical and horizontal ties drawn apart."""
    if cluster is None:
        cluster = default_cluster(model)
    f = model.firms
    capacity = len(f.alive)
    slots = np.flatnonzero(f.alive & (f.cluster == cluster))
    x = np.full(capacity, np.nan)
    y = np.full(capacity, np.nan)
    x[slots], y[slots] = firm_positions(model, slots)
    edges = network_edges(model, cluster)
    traces: list[dict[str, Any]] = []
    styles = {
        "vertical": {"color": VERTICAL_COLOUR, "width": 1.2},
        "horizontal": {"color": HORIZONTAL_COLOUR, "width": 1.0, "dash": "dot"},
    }
    for kind, (a, b) in edges.items():
        ex, ey = _segments(x, y, a, b)
        traces.append(
            dict(
                type="scatter",
                x=ex,
                y=ey,
                mode="lines",
                line=styles[kind],
                name=f"{kind} ties ({len(a)})",
                hoverinfo="skip",
                opacity=0.6,
            )
        )
    for stage, (name, colour) in enumerate(zip(STAGE_NAMES, STAGE_COLOURS, strict=True)):
        members = slots[f.stage[slots] == stage]
        traces.append(
            dict(
                type="scatter",
                x=x[members],
                y=y[members],
                mode="markers",
                name=f"{name}s ({len(members)})",
                marker={
                    "color": colour,
                    "size": 5 + 2.2 * np.sqrt(f.workers[members]),
                    "line": {
                        "width": np.where(f.member[members], 1.5, 0.0),
                        "color": "#111",
                    },
                },
                customdata=np.column_stack(
                    [
                        f.workers[members].round(0),
                        f.quality[members].round(2),
                        f.sales[members].round(1),
                        np.where(f.member[members], "member", "not a member"),
                    ]
                ),
                hovertemplate=(
                    f"{name}<br>%{{customdata[0]}} workers, productivity %{{y:.2f}}<br>"
                    "quality %{customdata[1]}, sales %{customdata[2]}<br>"
                    "%{customdata[3]}<extra></extra>"
                ),
            )
        )
    name = model.clusters.name[cluster]
    layout = dict(
        **{**LAYOUT, "margin": {"l": 60, "r": 10, "t": 40, "b": 40}},
        title={
            "text": f"Firm network: {name} ({len(slots)} firms) - quarter {model.steps}",
            "x": 0.01,
        },
        height=440,
        width=width,
        xaxis={
            "tickmode": "array",
            "tickvals": [0, 1, 2],
            "ticktext": ["upstream", "producers", "downstream"],
            "range": [-0.6, 2.6],
            "zeroline": False,
            "title": {"text": "value-chain stage"},
            **AXIS_STYLE,
        },
        yaxis={
            "title": {"text": f"productivity ({unit('productivity_mean', 'cluster')})"},
            "zeroline": False,
            **AXIS_STYLE,
        },
        legend={"orientation": "h", "y": -0.2, "x": 0.0},
    )
    return figure_spec(traces, layout)


def panel_figure(
    traces: list[dict[str, Any]],
    layout: dict[str, Any],
    title: str,
    *,
    height: int,
    width: int | None,
    legend_y: float,
    notes: list[dict[str, Any]],
    shapes: list[dict[str, Any]] | None = None,
) -> Spec:
    """A grid of time-series panels with the view's shared frame (title, margins, legend below).

    traces: the panels' traces
    layout: the panels' axes (from the grid)
    title: the figure's title
    height: figure height in pixels
    width: figure width in pixels (None: the container's)
    legend_y: where the horizontal legend sits below the panels
    notes: panel titles and other annotations
    shapes: extra shapes (e.g. a policy-start line), if any
    """
    frame = {
        **LAYOUT,
        **layout,
        "title": {"text": title, "x": 0.01},
        "height": height,
        "width": width,
        "margin": {"l": 60, "r": 10, "t": 50, "b": 40},
        "legend": {"orientation": "h", "y": legend_y, "x": 0.0},
        "annotations": notes,
    }
    if shapes is not None:
        frame["shapes"] = shapes
    return figure_spec(traces, frame)


# --- time series -----------------------------------------------------------------------------
def panel_domains(
    rows: int, cols: int, h_gap: float = 0.12, v_gap: float = 0.1
) -> list[tuple[list[float], list[float]]]:
    """x and y domains of a rows x cols grid of panels, row-major from the top left."""
    width = (1 - h_gap * (cols - 1)) / cols
    height = (1 - v_gap * (rows - 1)) / rows
    out = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        x0 = c * (width + h_gap)
        y1 = 1 - r * (height + v_gap)
        out.append(
            ([round(x0, 6), round(x0 + width, 6)], [round(max(y1 - height, 0), 6), round(y1, 6)])
        )
    return out


def headline_panel(
    layout: dict[str, Any],
    notes: list[dict[str, Any]],
    i: int,
    column: str,
    title: str,
    x_domain: list[float],
    y_domain: list[float],
    last: int,
) -> str:
    """Axes and title of headline panel ``i`` (a quarter axis on the bottom row, the outcome's
    unit on the side), added to ``layout`` and ``notes``; returns the panel's axis suffix.

    layout: the figure's layout dict, given the panel's axes
    notes: the figure's annotations, given the panel's title
    i: the panel's index in ``HEADLINES``
    column: the outcome shown
    title: its panel title
    x_domain: the panel's horizontal place on the paper (0-1)
    y_domain: its vertical place
    last: the last quarter shown
    """
    n = "" if i == 0 else str(i + 1)
    layout[f"xaxis{n}"] = {
        "domain": x_domain,
        "anchor": f"y{n}",
        "range": [0, max(last, 8)],  # a stable frame early on, not a zoom on one point
        "title": {"text": QUARTER_AXIS if i >= len(HEADLINES) - 2 else "", "standoff": 2},
        **AXIS_STYLE,
    }
    layout[f"yaxis{n}"] = {
        "domain": y_domain,
        "anchor": f"x{n}",
        "title": {"text": short_unit(column), "font": {"size": 9}, "standoff": 2},
        **AXIS_STYLE,
    }
    notes.append(
        {
            "text": panel_title(column, title),
            "x": sum(x_domain) / 2,
            "y": y_domain[1],
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 11},
        }
    )
    return n


def outcome_series(model: Any, width: int | None = None) -> Spec:
    """Headline outcomes over the policy quarters; the no-policy twin dashed alongside.

    Built from plain dicts: ``make_subplots`` plus ``add_trace(row=, col=)`` and ``add_vline``
    cost ~250 ms a step here, the dict layout ~15 ms.
    """
    history = model.history()
    baseline = model.baseline_history() if hasattr(model, "baseline_history") else None
    regime = getattr(getattr(model, "config", None), "name", "regime")
    last = int(history["step"].max()) if len(history) else 0
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    domains = panel_domains(3, 2)
    for i, ((column, title), (x_domain, y_domain)) in enumerate(
        zip(HEADLINES, domains, strict=True)
    ):
        n = headline_panel(layout, notes, i, column, title, x_domain, y_domain, last)
        series = ((baseline, "baseline"), (history, "regime"))
        for frame, kind in series:
            if frame is None or column not in frame:
                continue
            twin = kind == "baseline"
            traces.append(
                {
                    "type": "scatter",
                    "x": frame["step"].to_numpy(),
                    "y": frame[column].to_numpy(),
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                    "mode": "lines",
                    "line": {"color": BASELINE_COLOUR, "dash": "dash", "width": 1.5}
                    if twin
                    else {"color": REGIME_COLOUR, "width": 2},
                    "name": "no policy (same seed)" if twin else regime,
                    "legendgroup": kind,
                    "showlegend": i == 0,
                }
            )
        for shock in getattr(model, "shocks", []):
            shapes.append(
                {
                    "type": "line",
                    "x0": shock.step + 0.5,
                    "x1": shock.step + 0.5,
                    "xref": f"x{n}",
                    "y0": 0,
                    "y1": 1,
                    "yref": f"y{n} domain",
                    "line": {"color": "#d62728", "dash": "dot", "width": 1},
                }
            )
    return panel_figure(
        traces,
        layout,
        f"Headline outcomes - {regime} against no policy - quarter {last}",
        height=580,
        width=width,
        legend_y=-0.12,
        notes=notes,
        shapes=shapes,
    )


# --- support table ---------------------------------------------------------------------------
SUPPORT_COLUMNS: dict[str, str] = {
    "name": "cluster",
    "type": "type",
    "coordinator": "coordinator",
    "designated": "designated",
    "support": "this quarter",
    "support_total": "received",
    "firms": "firms",
    "va_change": "VA vs start %",
    "va_vs_baseline": "VA vs no policy %",
}


def support_table(model: Any, limit: int | None = None) -> pd.DataFrame:
    """Supported clusters, most-funded first: what each got and how its value added moved."""
    table = model.cluster_table()
    received = table["support_total"] > 0
    frame = table[received].copy()
    idx = frame["cluster"].to_numpy()
    frame["type"] = [CLUSTER_TYPES[int(t)] for t in frame["cluster_type"]]
    frame["coordinator"] = [COORDINATOR_NAMES[int(c)] for c in frame["coordinator"]]
    frame["designated"] = np.where(frame["selected"] > 0, "yes", "")
    start = getattr(model, "start_table", None)
    if start is not None:
        before = start["value_added"].to_numpy()[idx]
        frame["va_change"] = _percent(frame["value_added"].to_numpy(), before)
    else:
        frame["va_change"] = np.nan
    twin = getattr(model, "baseline", None)
    if twin is not None:
        other = twin.cluster_table()["value_added"].to_numpy()[idx]
        frame["va_vs_baseline"] = _percent(frame["value_added"].to_numpy(), other)
    else:
        frame["va_vs_baseline"] = np.nan
    frame = frame.sort_values("support_total", ascending=False)
    if limit is not None:
        frame = frame.head(limit)
    out = frame[list(SUPPORT_COLUMNS)].rename(columns=SUPPORT_COLUMNS)
    for column in ("this quarter", "received"):
        out[column] = out[column].round(1)
    out["firms"] = out["firms"].astype(int)
    return out.reset_index(drop=True)


def _percent(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(before > 0, 100 * (now / before - 1), np.nan)
    return np.round(change, 1)


# --- headline numbers ------------------------------------------------------------------------
SUPPORTED_SO_FAR = "supported_so_far"  # not a registry column: clusters with support_total > 0
KPIS: tuple[tuple[str, str, str, str], ...] = (  # label, aggregate column, format, difference
    ("Value added", "value_added", "{:,.0f}", "ratio"),
    ("Employment", "employment", "{:,.0f}", "ratio"),
    ("Firms", "firms", "{:,.0f}", "ratio"),
    ("Value added per worker", "va_per_worker", "{:,.3f}", "ratio"),
    ("Export market share", "market_share_export", "{:.1%}", "points"),
    ("Vertical linkage", "vertical_linkage", "{:.1%}", "points"),
    ("Clusters supported this quarter", "supported_clusters", "{:,.0f}", ""),
    ("Clusters supported so far", SUPPORTED_SO_FAR, "{:,.0f}", ""),
    ("Budget spent since policy start", "budget_spent", "{:,.0f}", ""),
)


def supported_so_far(model: Any) -> int:
    """Clusters that have received support since policy start: the count every panel shows."""
    return int((np.asarray(model.clusters.support_total) > 0).sum())


def _with_counts(model: Any) -> dict[str, float]:
    return {**model.latest, SUPPORTED_SO_FAR: float(supported_so_far(model))}


def headline_table(model: Any) -> pd.DataFrame:
    """This quarter's headline outcomes, the no-policy twin's, and the difference (% or points)."""
    latest = _with_counts(model)
    twin = getattr(model, "baseline", None)
    other = _with_counts(twin) if twin is not None else {}
    rows = []
    for label, column, fmt, kind in KPIS:
        now = latest.get(column, float("nan"))
        base = other.get(column)
        outcome = lookup(column, "aggregate")
        if outcome is not None and outcome.unit not in ("share 0-1", "clusters", column):
            label = f"{label} ({outcome.unit})"
        diff = ""
        if base and kind == "ratio":
            diff = f"{100 * (now / base - 1):+.1f}%"
        elif base is not None and kind == "points":
            diff = f"{100 * (now - base):+.1f} pp"
        rows.append((label, fmt.format(now), "" if base is None else fmt.format(base), diff))
    return pd.DataFrame(rows, columns=["outcome", "regime", "no policy", "difference"])


# --- the four regimes side by side -----------------------------------------------------------
REGIME_COLOURS: dict[str, str] = {  # one colour per preset, in every figure of the view
    "no_policy": BASELINE_COLOUR,
    "top_down": "#d62728",
    "demand_driven": "#2ca02c",
    "bottom_up": "#1f77b4",
}


def regime_series(histories: dict[str, pd.DataFrame], width: int | None = None) -> Spec:
    """The headline outcomes of every regime over the same quarters, one colour per regime."""
    labels = {name: PRESET_LABELS.get(name, name) for name in histories}
    last = max((int(h["step"].max()) for h in histories.values() if len(h)), default=0)
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    for i, ((column, title), (x_domain, y_domain)) in enumerate(
        zip(HEADLINES, panel_domains(3, 2), strict=True)
    ):
        n = headline_panel(layout, notes, i, column, title, x_domain, y_domain, last)
        for name, frame in histories.items():
            traces.append(
                {
                    "type": "scatter",
                    "x": frame["step"].to_numpy(),
                    "y": frame[column].to_numpy(),
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                    "mode": "lines",
                    "line": {
                        "color": REGIME_COLOURS.get(name, REGIME_COLOUR),
                        "width": 1.5 if name == BASELINE else 2,
                        "dash": "dash" if name == BASELINE else "solid",
                    },
                    "name": labels[name],
                    "legendgroup": name,
                    "showlegend": i == 0,
                }
            )
    return panel_figure(
        traces,
        layout,
        f"The four regimes on one seed - quarter {last}",
        height=580,
        width=width,
        legend_y=-0.12,
        notes=notes,
    )


def regime_table(histories: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each regime's last quarter, and its value added against no policy on the same seed."""
    rows = []
    base = histories.get(BASELINE)
    base_va = float(base["value_added"].iloc[-1]) if base is not None and len(base) else None
    for name, frame in histories.items():
        if not len(frame):
            continue
        last = frame.iloc[-1]
        va = float(last["value_added"])
        vs = "" if not base_va or name == BASELINE else f"{100 * (va / base_va - 1):+.1f}%"
        rows.append(
            (
                PRESET_LABELS.get(name, name),
                f"{va:,.0f}",
                vs,
                f"{last['employment']:,.0f}",
                f"{last['va_per_worker']:,.3f}",
                f"{last['market_share_export']:.1%}",
                f"{last['budget_spent']:,.0f}",
                f"{1 - last['share_unsupported']:.0%}",
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "regime",
            f"value added ({unit('value_added')})",
            "VA vs no policy",
            "employment (workers)",
            f"VA per worker ({unit('va_per_worker')})",
            "export market share",
            "budget spent (wage units)",
            "share of clusters supported so far",
        ],
    )


# --- one cluster in detail -------------------------------------------------------------------
DETAIL_SERIES: tuple[tuple[str, str], ...] = (  # cluster column, panel title
    ("value_added", "Value added"),
    ("employment", "Employment"),
    ("firms", "Firms"),
    ("support", "Support received"),
)


def cluster_facts(model: Any, cluster: int) -> pd.DataFrame:
    """What the cluster is now: identity, policy status, size and performance, with units."""
    row = model.cluster_table().iloc[cluster]
    c = model.clusters
    rows = [
        ("product, region", f"{row['product']}, region {int(row['region'])}"),
        ("type", CLUSTER_TYPES[int(c.cluster_type[cluster])]),
        ("coordinator", COORDINATOR_NAMES[int(c.coordinator[cluster])]),
        ("designated by the plan", "yes" if c.selected[cluster] else "no"),
        ("support this quarter (wage units)", f"{row['support']:,.1f}"),
        ("support so far (wage units)", f"{row['support_total']:,.1f}"),
        ("firms / association members", f"{int(row['firms'])} / {int(row['members'])}"),
        ("employment (workers)", f"{row['employment']:,.0f}"),
        (f"value added ({unit('value_added', 'cluster')})", f"{row['value_added']:,.1f}"),
        (f"VA per worker ({unit('va_per_worker', 'cluster')})", f"{row['va_per_worker']:,.3f}"),
        ("export share of sales", f"{row['export_share']:.0%}"),
    ]
    return pd.DataFrame(rows, columns=["", "now"])


def cluster_firms(model: Any, cluster: int, limit: int = 12) -> pd.DataFrame:
    """The cluster's largest live firms: stage, size, productivity, sales, support received."""
    f = model.firms
    slots = np.flatnonzero(f.alive & (f.cluster == cluster))
    slots = slots[np.argsort(-f.workers[slots], kind="stable")][:limit]
    return pd.DataFrame(
        {
            "firm": f.uid[slots].astype(int),
            "stage": [STAGE_NAMES[int(s)] for s in f.stage[slots]],
            "workers": f.workers[slots].round(0).astype(int),
            "productivity": f.productivity[slots].round(2),
            "quality (0-1)": f.quality[slots].round(2),
            "sales (wage units)": f.sales[slots].round(1),
            "support so far (wage units)": f.support_total[slots].round(1),
            "member": np.where(f.member[slots], "yes", ""),
        }
    )


def cluster_detail(model: Any, cluster: int, width: int | None = None) -> Spec:
    """One cluster's outcomes over the policy quarters, against the same cluster without policy."""
    history = model.cluster_history()
    mine = history[history["cluster"] == cluster]
    twin = getattr(model, "baseline", None)
    other = None
    if twin is not None:
        twin_history = twin.cluster_history()
        other = twin_history[twin_history["cluster"] == cluster]
    last = int(mine["step"].max()) if len(mine) else 0
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    for i, ((column, title), (x_domain, y_domain)) in enumerate(
        zip(DETAIL_SERIES, panel_domains(2, 2, v_gap=0.2), strict=True)
    ):
        n = "" if i == 0 else str(i + 1)
        layout[f"xaxis{n}"] = {
            "domain": x_domain,
            "anchor": f"y{n}",
            "range": [0, max(last, 8)],
            "title": {"text": QUARTER_AXIS if i >= 2 else "", "standoff": 2},
            **AXIS_STYLE,
        }
        layout[f"yaxis{n}"] = {
            "domain": y_domain,
            "anchor": f"x{n}",
            "title": {"text": short_unit(column, "cluster"), "font": {"size": 9}, "standoff": 2},
            **AXIS_STYLE,
        }
        notes.append(
            {
                "text": title,
                "x": sum(x_domain) / 2,
                "y": y_domain[1],
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        for frame, twin_line in ((other, True), (mine, False)):
            if frame is None:
                continue
            traces.append(
                {
                    "type": "scatter",
                    "x": frame["step"].to_numpy(),
                    "y": frame[column].to_numpy(),
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                    "mode": "lines",
                    "line": {"color": BASELINE_COLOUR, "dash": "dash", "width": 1.5}
                    if twin_line
                    else {"color": REGIME_COLOUR, "width": 2},
                    "name": "same cluster, no policy" if twin_line else "this regime",
                    "legendgroup": "twin" if twin_line else "regime",
                    "showlegend": i == 0,
                }
            )
    name = model.clusters.name[cluster]
    return panel_figure(
        traces,
        layout,
        f"Cluster {name} over time - quarter {last}",
        height=420,
        width=width,
        legend_y=-0.18,
        notes=notes,
    )


# --- what each panel shows, in a sentence or two under it ---------------------------------------
CAPTIONS: dict[str, str] = {
    "overview": (
        "This quarter's outcomes of the running regime against its no-policy twin: the same "
        "world and seed stepped without policy. Differences are % for amounts and percentage "
        "points (pp) for shares. Money is in wage units (one worker's labour cost per quarter)."
    ),
    "series": (
        "Each panel is one outcome over the quarters since policy started: the regime as a solid "
        "line, the no-policy twin dashed. The gap between them is what the policy did. A red "
        "dotted line marks a demand shock."
    ),
    "support": (
        "Clusters that have received support so far, most-funded first: support this quarter "
        "and in total (wage units), and how their value added moved since policy started and "
        "against the same cluster in the no-policy twin."
    ),
    "map": (
        "A schematic map, not geography. Each shaded block is a region; its label gives the "
        "regional government's delivery capacity (0-1): low capacity means more of the support "
        "leaks away in delivery and monitoring sees less (darker blocks: more capacity). Each "
        "marker is a cluster: size = firms, colour = value added per worker (or its type), "
        "diamond = designated by the plan, dark ring = supported without being designated. "
        "Click a cluster for its detail."
    ),
    "network": (
        "The firms of the selected cluster: across, their value-chain stage (upstream "
        "suppliers, producers, downstream traders); up, productivity; size = workers; dark "
        "ring = association member. Solid blue lines are supplier and trader ties (vertical), "
        "dotted orange lines cooperation ties (horizontal)."
    ),
    "detail": (
        "The selected cluster now, its largest firms, and its outcomes over time against the "
        "same cluster in the no-policy twin (dashed)."
    ),
    "regimes": (
        "The four regime presets run on the same seed: the same world and the same market "
        "draws, so the lines differ only by the regime. Each preset as its file defines it "
        "(the sliders of the sidebar do not apply here). No policy is dashed."
    ),
}
