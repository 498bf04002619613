"""The interactive browser view: ``klaster viz`` (or ``make viz``) serves this file with solara.

Step, Play and Reset are SolaraViz's own. The regime controls (sidebar) say what Reset builds;
each view below is a plain function of the model, which SolaraViz re-renders after every step.
"""

from __future__ import annotations

import html
import os

import pandas as pd
import solara
from mesa.visualization import SolaraViz

from sim.scenario.presets import PRESET_LABELS
from sim.viz import controls, figures
from sim.viz.plot import LivePlot
from sim.viz.viz_model import VizModel

# Plotly's widget sizes itself once, before the grid cell has a width, then keeps 700 px and
# overflows half-width cells; a fixed width that fits a 1600 px window (or a collapsed sidebar).
FIGURE_WIDTH = 560
USE_FIGUREPLOTLY = os.environ.get("KLASTER_VIZ_FIGUREPLOTLY", "") not in ("", "0")


def Plot(fig: object) -> solara.Element:
    """Set KLASTER_VIZ_FIGUREPLOTLY=1 to use solara.FigurePlotly (3 redraws a step) instead."""
    with solara.Div(style={"width": "100%", "overflow-x": "auto"}) as div:
        if USE_FIGUREPLOTLY:
            solara.FigurePlotly(fig)
        else:
            LivePlot(fig)
    return div


def html_table(frame: pd.DataFrame, css: str) -> str:
    """A plain HTML table: solara.Markdown would pull KaTeX CSS from a CDN on every render."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:,.1f}"  # NaN -> blank
    return str(value)


TABLE_CSS = """
.klaster-table {border-collapse: collapse; font-size: 0.85em; width: 100%;}
.klaster-table th {text-align: left; border-bottom: 1px solid #bbb; padding: 2px 6px;}
.klaster-table td {border-bottom: 1px solid #eee; padding: 2px 6px; white-space: nowrap;}
.klaster-table th {white-space: normal; vertical-align: bottom; font-weight: 500;}
.klaster-table td:not(:first-child) {text-align: right;}
"""


def Overview(model: VizModel) -> solara.Element:
    """What is running, how it compares with no policy, and what a step costs."""
    s = model.settings
    with solara.Column(gap="6px", classes=["klaster-overview"]) as column:
        solara.Style(TABLE_CSS)
        solara.HTML(
            tag="h3",
            unsafe_innerHTML=html.escape(
                f"{PRESET_LABELS.get(s.preset, s.preset)} - quarter {model.steps}"
            ),
            classes=["klaster-quarter"],
        )
        ingredients = (
            f"planning quality {s.planning_quality:.2f} | market attention "
            f"{s.market_attention:.2f} | monitoring {s.monitoring:.2f} | open share "
            f"{s.open_share:.2f} | budget {s.budget:.0f} | designated {s.selected_clusters}"
        )
        solara.Text(ingredients, classes=["klaster-ingredients"], style={"font-size": "0.85em"})
        if controls.settings.value != s:
            solara.Warning("Regime controls changed: press Reset to rebuild the model with them.")
        with model.reading("overview"):
            headline = figures.headline_table(model)
        solara.HTML(unsafe_innerHTML=html_table(headline, "klaster-table"))
        timing = model.timing
        if timing.history:
            solara.Text(
                f"Last step: model {timing.model_ms:.1f} ms + no-policy twin "
                f"{timing.baseline_ms:.1f} ms",
                style={"font-size": "0.8em", "color": "#666"},
            )
        controls.ShockControls(model)
    return column


def ClusterMapView(model: VizModel) -> solara.Element:
    with solara.Column(gap="0px") as column:
        solara.ToggleButtonsSingle(
            value=controls.colour_by,
            values=["competitiveness", "type"],
            dense=True,
        )
        with model.reading("map"):
            fig = figures.cluster_map(model, controls.colour_by.value, FIGURE_WIDTH)
        Plot(fig)
    return column


def NetworkView(model: VizModel) -> solara.Element:
    with model.reading("network"):
        choices = figures.cluster_choices(model)
        chosen = controls.network_cluster.value
        if chosen is None or chosen not in choices.values():
            chosen = figures.default_cluster(model)
        fig = figures.firm_network(model, chosen, FIGURE_WIDTH)
    label = next(k for k, v in choices.items() if v == chosen)
    with solara.Column(gap="0px") as column:
        solara.Select(
            "Cluster",
            value=label,
            values=list(choices),
            on_value=lambda v: controls.network_cluster.set(choices[v]),
        )
        Plot(fig)
    return column


def SeriesView(model: VizModel) -> solara.Element:
    with model.reading("series"):
        fig = figures.outcome_series(model, FIGURE_WIDTH)
    return Plot(fig)


def SupportView(model: VizModel) -> solara.Element:
    with model.reading("support"):
        table = figures.support_table(model)
    with solara.Column(gap="4px", classes=["klaster-support"]) as column:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>Supported clusters: {len(table)}</b> (top 10 by support"
            " received; VA = value added, against policy start and against the no-policy twin)",
        )
        if len(table):
            solara.HTML(unsafe_innerHTML=html_table(table.head(10), "klaster-table"))
        else:
            solara.Text("No cluster has received support yet.")
    return column


MODEL_PARAMS = {
    "settings": controls.current_settings,  # fixed: Reset reads the regime controls through it
    "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1, "label": "Seed"},
    "baseline": {
        "type": "Checkbox",
        "value": True,
        "label": "Run the no-policy twin alongside",
    },
}


def LeftColumn(model: VizModel) -> solara.Element:
    """Regime, headline numbers and trajectories: what a briefing reads top to bottom."""
    with solara.Column(gap="12px", classes=["klaster-left"]) as column:
        controls.RegimeControls()
        with solara.Card(margin=0):
            Overview(model)
        with solara.Card(margin=0):
            SeriesView(model)
        with solara.Card(margin=0):
            SupportView(model)
    return column


def RightColumn(model: VizModel) -> solara.Element:
    """Where support lands and how firms link up."""
    with solara.Column(gap="12px", classes=["klaster-right"]) as column:
        with solara.Card(margin=0):
            ClusterMapView(model)
        with solara.Card(margin=0):
            NetworkView(model)
    return column


page = SolaraViz(
    VizModel(settings=controls.current_settings, seed=0),
    components=[LeftColumn, RightColumn],
    model_params=MODEL_PARAMS,
    name="klaster: SME cluster policy",
    play_interval=150,
)
