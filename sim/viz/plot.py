"""A plotly figure widget that updates in place each step: one small message, one redraw.

``solara.FigurePlotly`` sets the layout, appends the new traces and then deletes the old ones:
three messages and three full plotly.js redraws per figure per step. Going through plotly's
Python objects instead (``batch_update``) validates every property of every trace, tens of
milliseconds per figure per step. When the new figure has the same traces as the shown one
(every step, in these views) we send plotly.js one ``Plotly.update`` with the new plain JSON and
keep the widget's Python-side state in step, with no validation (the figures come from our own
code, and ``as_figure`` validates them in the tests). Otherwise the figure is replaced as
``solara.FigurePlotly`` does. Same widget (plotly's FigureWidget, whose plotly.js ships in the
plotly wheel), so it works offline just the same. The widget lives as long as its component:
Reset updates it like a step does, so no widget is closed while the browser still talks to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import solara
from plotly.graph_objs._figurewidget import FigureWidget

from sim.viz.figures import Spec

# a trace's type (same on both sides, or the figure is replaced) and its uid, by which plotly's
# widget matches what the browser reports back to the trace: never reset by an update
KEPT = frozenset({"type", "uid"})


def _same_traces(widget: FigureWidget, data: list[dict[str, Any]]) -> bool:
    shown = widget._data  # the widget's own JSON state, one dict per trace
    return len(shown) == len(data) and all(
        old.get("type", "scatter") == new.get("type", "scatter")
        for old, new in zip(shown, data, strict=True)
    )


def update_in_place(widget: FigureWidget, spec: Spec) -> None:
    """Send what changed in ``spec`` as one Plotly.update. Only changed properties travel (an
    unchanged layout is not redrawn); a property missing from the new trace or layout is reset
    (null), so the result is the new figure, not a merge with the old one."""
    data, layout = spec.get("data", []), spec.get("layout", {})
    shown_data, shown_layout = widget._data, widget._layout  # the widget's own JSON state
    restyle: dict[str, list[Any]] = {}
    keys = {key for trace in data for key in trace} | {key for t in shown_data for key in t}
    for key in sorted(keys - KEPT):
        new = [trace.get(key) for trace in data]
        if new != [trace.get(key) for trace in shown_data]:
            restyle[key] = new
    relayout = {
        key: layout.get(key)
        for key in set(layout) | set(shown_layout)
        if layout.get(key) != shown_layout.get(key)
    }
    for shown, fresh in zip(shown_data, data, strict=True):
        kept = {key: shown[key] for key in KEPT if key in shown}
        shown.clear()
        shown.update(fresh)
        shown.update(kept)
    shown_layout.clear()
    shown_layout.update(layout)
    if restyle or relayout:
        widget._send_update_msg(restyle, relayout, list(range(len(data))))


def apply_figure(widget: FigureWidget, spec: Spec) -> bool:
    """Show ``spec`` in ``widget``; True when done in place (one message), False when replaced."""
    data, layout = spec.get("data", []), spec.get("layout", {})
    if data and _same_traces(widget, data) and hasattr(widget, "_send_update_msg"):
        update_in_place(widget, spec)
        return True
    widget.layout = layout
    old = len(widget.data)
    widget.add_traces(data)
    widget.data = widget.data[old:]
    return False


def on_points_clicked(widget: FigureWidget, handler: Callable[[Any, Any], None]) -> None:
    """Call ``handler(trace, points)`` when a point of any trace is clicked in the browser."""
    for trace in widget.data:
        trace.on_click(lambda trace, points, _selector: handler(trace, points), append=False)


def drawing(widget: FigureWidget) -> bool:
    """True while the browser has not yet confirmed drawing the last update sent to ``widget``
    (plotly.js answers every update with the defaults it computed; plotly's widget clears these
    flags when the answer arrives). A closed widget draws nothing."""
    if getattr(widget, "comm", None) is None:
        return False
    return bool(widget._trace_edit_in_process or widget._layout_edit_in_process)


def wait_until_drawn(widgets: Iterable[FigureWidget], timeout: float = 2.0) -> bool:
    """Wait until the browser has drawn every widget's last update, at most ``timeout`` seconds:
    Play calls this so that it never sends steps faster than the browser draws them."""
    deadline = time.monotonic() + timeout
    while any(drawing(widget) for widget in list(widgets)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@solara.component
def LivePlot(
    spec: Spec,
    on_click: Callable[[Any, Any], None] | None = None,
    shown_in: Any = None,
) -> solara.Element:
    """Show a figure, updated in place when it changes.

    spec: the figure as plain JSON (``sim.viz.figures``); a new object each time it changes
    on_click: called with (trace, points) when the user clicks a point, if given
    shown_in: a register (``VizModel.plots``, id -> widget) the widget joins, for
        ``wait_until_drawn``
    """
    element = FigureWidget.element()

    def update() -> None:
        widget = solara.get_widget(element)
        if shown_in is not None:
            shown_in[id(widget)] = widget
        replaced = not apply_figure(widget, spec)
        if on_click is not None and replaced:  # in-place updates keep the trace objects
            on_points_clicked(widget, on_click)

    solara.use_effect(update, [spec])
    return element
