"""The interactive browser view: ``klaster viz`` (or ``make viz``) serves this file with solara.

Two tabs. "Regime against no policy": the regime the sidebar describes, stepped with its
no-policy twin, in six panels. "Four regimes side by side": the four presets on one seed.

Built from solara components as Mesa's SolaraViz is, but laid out here rather than by
SolaraViz, for three reasons: tabs with names (SolaraViz numbers its pages), one model per
browser session (SolaraViz shares its first model between sessions), and a Reset that updates
the page in place (SolaraViz remounts every panel on Reset: 12-19 s, and page errors from
plot widgets closed while the browser still talked to them). Each panel is a component that
listens to the session's step counter and redraws only itself.
"""

from __future__ import annotations

import html
import threading

import pandas as pd
import solara
import solara.lab

from sim.viz import controls, export, figures
from sim.viz.plot import LivePlot
from sim.viz.regimes import RegimeSet
from sim.viz.viz_model import VizModel

TITLE = "klaster: SME cluster policy"
# Plotly's widget sizes itself once, before the grid cell has a width, then keeps 700 px and
# overflows half-width cells; a fixed width that fits a 1600 px window (or a collapsed sidebar).
FIGURE_WIDTH = 560
TABLE_CSS = """
.klaster-table {border-collapse: collapse; font-size: 0.85em; width: 100%;}
.klaster-table th {text-align: left; border-bottom: 1px solid #bbb; padding: 2px 6px;}
.klaster-table td {border-bottom: 1px solid #eee; padding: 2px 6px; white-space: nowrap;}
.klaster-table th {white-space: normal; vertical-align: bottom; font-weight: 500;}
.klaster-table td:not(:first-child) {text-align: right;}
.klaster-table td:first-child {white-space: normal;}
.klaster-plot {contain: layout paint;}  /* a chart's redraw relays out and repaints only itself */
.klaster-caption {font-size: 0.8em; color: #555; line-height: 1.35; margin: 2px 4px 0 4px;}
"""


def html_table(frame: pd.DataFrame, css: str = "klaster-table") -> str:
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


def Caption(panel: str) -> solara.Element:
    """The sentence or two under a panel that says what it shows."""
    return solara.HTML(
        tag="div",
        unsafe_innerHTML=html.escape(figures.CAPTIONS[panel]),
        classes=["klaster-caption"],
    )


def Plot(fig: object, on_click: object = None, model: VizModel | None = None) -> solara.Element:
    """A chart; with ``model``, Play waits for the browser to draw it before the next step."""
    shown_in = None if model is None else model.plots
    with solara.Div(style={"width": "100%", "overflow-x": "auto"}, classes=["klaster-plot"]) as div:
        LivePlot(fig, on_click=on_click, shown_in=shown_in)
    return div


# --- tab 1: the regime against its no-policy twin --------------------------------------------
@solara.component
def Overview(model: VizModel, tick: int) -> None:
    """What is running, how it compares with no policy, the shock and the download."""
    with model.reading():
        headline = figures.headline_table(model)
        quarter = int(model.steps)
    with solara.Column(gap="6px", classes=["klaster-overview"]):
        solara.HTML(
            tag="h3",
            unsafe_innerHTML=html.escape(f"{model.settings.label} - quarter {quarter}"),
            classes=["klaster-quarter"],
        )
        s = model.settings
        solara.Text(
            f"planning quality {s.planning_quality:.2f} | market attention "
            f"{s.market_attention:.2f} | monitoring {s.monitoring:.2f} | open share "
            f"{s.open_share:.2f} | budget {s.budget:.0f} | designated {s.selected_clusters}"
            f" | seed {model.seed}",
            classes=["klaster-ingredients"],
            style={"font-size": "0.85em"},
        )
        if controls.settings.value != s:
            solara.Warning("Regime controls changed: press Reset to rebuild the model with them.")
        solara.HTML(unsafe_innerHTML=html_table(headline))
        Caption("overview")
        timing = model.timing
        if timing.history:
            solara.Text(
                f"Last step: model {timing.model_ms:.1f} ms + no-policy twin "
                f"{timing.baseline_ms:.1f} ms",
                style=controls.MUTED,
            )
        solara.FileDownload(
            lambda: export.run_zip(model),
            filename=export.zip_name(model),
            label="Download this run's tables (CSV)",
        )


@solara.component
def SeriesView(model: VizModel, tick: int) -> None:
    def build() -> object:
        with model.reading():
            return figures.outcome_series(model, FIGURE_WIDTH)

    fig = solara.use_memo(build, [model, tick])
    with solara.Column(gap="0px", classes=["klaster-series"]):
        Plot(fig, model=model)
        Caption("series")


@solara.component
def SupportView(model: VizModel, tick: int) -> None:
    with model.reading():
        table = figures.support_table(model)
        this_quarter = int(model.latest.get("supported_clusters", 0))
    with solara.Column(gap="4px", classes=["klaster-support"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>Clusters supported so far: {len(table)}</b>"
            f" ({this_quarter} this quarter; the ten most-funded below)",
        )
        if len(table):
            solara.HTML(unsafe_innerHTML=html_table(table.head(10)))
        else:
            solara.Text("No cluster has received support yet.")
        Caption("support")


def select_cluster_from_click(trace: object, points: object) -> None:
    """A click on a map marker selects its cluster (the marker's first customdata column)."""
    indices = getattr(points, "point_inds", [])
    custom = getattr(trace, "customdata", None)
    if indices and custom is not None:
        controls.selected_cluster.set(int(custom[indices[0]][0]))
        controls.detail_open.set(True)


@solara.component
def ClusterMapView(model: VizModel, tick: int) -> None:
    def build() -> object:
        with model.reading():
            return figures.cluster_map(model, controls.colour_by.value, FIGURE_WIDTH)

    fig = solara.use_memo(build, [model, tick, controls.colour_by.value])
    with solara.Column(gap="0px", classes=["klaster-map"]):
        solara.ToggleButtonsSingle(
            value=controls.colour_by, values=["competitiveness", "type"], dense=True
        )
        Plot(fig, on_click=select_cluster_from_click, model=model)
        Caption("map")


def chosen_cluster(model: VizModel) -> int:
    """The selected cluster, or the default one; the default is pinned on first use, so the
    network never switches clusters by itself as the model steps."""
    chosen = controls.selected_cluster.value
    if chosen is None or not 0 <= chosen < model.clusters.count:
        chosen = figures.default_cluster(model)
    return chosen


@solara.component
def NetworkView(model: VizModel, tick: int) -> None:
    choices = solara.use_memo(lambda: figures.cluster_choices(model), [model])
    chosen = chosen_cluster(model)

    def pin() -> None:
        if controls.selected_cluster.value is None:
            controls.selected_cluster.set(chosen)

    solara.use_effect(pin, [chosen])

    def build() -> object:
        with model.reading():
            return figures.firm_network(model, chosen, FIGURE_WIDTH)

    fig = solara.use_memo(build, [model, tick, chosen])
    label = next((k for k, v in choices.items() if v == chosen), None)
    with solara.Column(gap="0px", classes=["klaster-network"]):
        with solara.Row(style={"align-items": "center"}):
            solara.Select(
                "Cluster (or click one on the map)",
                value=label,
                values=list(choices),
                on_value=lambda v: controls.selected_cluster.set(choices[v]),
            )
            solara.Button(
                "Cluster detail",
                icon_name="mdi-magnify",
                outlined=True,
                on_click=lambda: controls.detail_open.set(True),
                classes=["klaster-open-detail"],
            )
        Plot(fig, model=model)
        Caption("network")


@solara.component
def ClusterDetailView(model: VizModel, tick: int, live: bool = True) -> None:
    """The selected cluster: facts, outcomes over time, largest firms. Not live (its dialog
    closed): it keeps what it shows rather than redrawing at every step."""
    chosen = chosen_cluster(model)

    def build() -> tuple[object, pd.DataFrame, pd.DataFrame]:
        with model.reading():
            return (
                figures.cluster_detail(model, chosen, 900),
                figures.cluster_facts(model, chosen),
                figures.cluster_firms(model, chosen),
            )

    fig, facts, firms = solara.use_memo(build, [model, tick if live else None, chosen])
    with solara.Column(gap="6px", classes=["klaster-detail"]):
        solara.HTML(
            tag="h3",
            unsafe_innerHTML=html.escape(f"Cluster detail: {model.clusters.name[chosen]}"),
            classes=["klaster-detail-title"],
        )
        solara.HTML(unsafe_innerHTML=html_table(facts))
        Plot(fig, model=model)
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>Largest firms</b> ({len(firms)} shown)")
        solara.HTML(unsafe_innerHTML=html_table(firms))
        Caption("detail")


@solara.component
def ClusterDetailDialog(model: VizModel, tick: int) -> None:
    """The selected cluster in a dialog, opened by a click on the map (or the detail button).
    Redrawn at each step only while open; once opened it stays mounted (hidden), because a plot
    widget closed while the browser still talks to it is a page error."""
    is_open = controls.detail_open.value
    opened, set_opened = solara.use_state(False)
    if is_open and not opened:
        set_opened(True)
    with solara.v.Dialog(
        v_model=is_open,
        on_v_model=controls.detail_open.set,
        max_width="1000px",
        scrollable=True,
    ):
        if is_open or opened:
            with solara.Card(margin=0, classes=["klaster-detail-card"]):
                ClusterDetailView(model, tick, live=is_open)
                solara.Button("Close", text=True, on_click=lambda: controls.detail_open.set(False))


@solara.component
def RegimeTab(model: solara.Reactive[VizModel], tick: solara.Reactive[int]) -> None:
    current, quarter = model.value, tick.value
    with solara.Columns([1, 1], classes=["klaster-regime-tab"]):
        with solara.Column(gap="12px", classes=["klaster-left"]):
            with solara.Card(margin=0):
                Overview(current, quarter)
                controls.ShockControls(current, tick)
            with solara.Card(margin=0):
                SeriesView(current, quarter)
            with solara.Card(margin=0):
                SupportView(current, quarter)
        with solara.Column(gap="12px", classes=["klaster-right"]):
            with solara.Card(margin=0):
                ClusterMapView(current, quarter)
            with solara.Card(margin=0):
                NetworkView(current, quarter)
    ClusterDetailDialog(current, quarter)


# --- tab 2: the four regimes side by side ----------------------------------------------------
regime_set: solara.Reactive[RegimeSet | None] = solara.reactive(None)
regime_progress = solara.reactive(0)
regime_quarters = solara.reactive(40)
REDRAW_EVERY = 8  # quarters between redraws while the four regimes run


@solara.component
def RegimesTab() -> None:
    """Runs the four presets on the sidebar's seed for a number of quarters, then compares."""
    running = solara.use_reactive(False)

    def run(cancel: threading.Event) -> None:
        if not running.value:
            return
        regimes = controls.released_with_session(RegimeSet(seed=int(controls.seed.value)))
        if regime_set.value is not None:
            regime_set.value.release()
        regime_set.value = regimes
        regime_progress.value = 0
        for quarter in range(1, regime_quarters.value + 1):
            if cancel.is_set():
                return
            regimes.step()
            if quarter % REDRAW_EVERY == 0 or quarter == regime_quarters.value:
                regime_progress.value = quarter
        running.value = False

    solara.use_thread(run, dependencies=[running.value], intrusive_cancel=False)  # see RunControls
    regimes = regime_set.value
    progress = regime_progress.value

    def build() -> tuple[object, pd.DataFrame] | None:
        if regimes is None:
            return None
        histories = regimes.histories()
        return figures.regime_series(histories, 2 * FIGURE_WIDTH), figures.regime_table(histories)

    shown = solara.use_memo(build, [regimes, progress])
    with solara.Card(margin=0, classes=["klaster-regimes"]):
        with solara.Row(gap="12px", style={"align-items": "center"}):
            with solara.Div(style={"width": "320px"}):
                solara.SliderInt(
                    "Quarters", value=regime_quarters, min=8, max=80, step=4, thumb_label=True
                )
            solara.Button(
                "Run the four regimes",
                color="primary",
                on_click=lambda: running.set(True),
                disabled=running.value,
            )
            seed_note = f"seed {controls.seed.value} (the sidebar's)"
            if running.value:
                seed_note += f" - running, quarter {progress} of {regime_quarters.value}"
            solara.Text(seed_note, style=controls.MUTED)
        Caption("regimes")
        if shown is None:
            solara.Text("Press the button to run the four regimes.")
        else:
            fig, table = shown
            solara.HTML(unsafe_innerHTML=html_table(table), classes=["klaster-regime-table"])
            Plot(fig)


# --- the page --------------------------------------------------------------------------------
@solara.component
def Page() -> None:
    initial = solara.use_memo(controls.build_model, [])
    model = solara.use_reactive(initial)
    tick = solara.use_reactive(0)
    tab = solara.use_reactive(0)
    solara.Title(TITLE)
    solara.Style(TABLE_CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column(gap="12px"):
        controls.RunControls(model, tick)
        controls.RegimeControls()
    # not lazy: a lazy tab unmounts its plots when hidden, and a plot widget closed while the
    # browser still talks to it is a page error; a hidden tab does not redraw anyway
    with solara.lab.Tabs(value=tab, lazy=False):
        with solara.lab.Tab("Regime against no policy", classes=["klaster-tab-regime"]):
            RegimeTab(model, tick)
        with solara.lab.Tab("Four regimes side by side", classes=["klaster-tab-regimes"]):
            RegimesTab()
