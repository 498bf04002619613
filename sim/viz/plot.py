"""A plotly figure that updates in place each step: one browser redraw instead of three.

``solara.FigurePlotly`` sets the layout, appends the new traces and then deletes the old ones:
three messages and three full plotly.js redraws per figure per step, which dominates the cost of
stepping in the browser. When the new figure has the same traces as the shown one (every step,
in these views) we send one batched update instead; otherwise we replace the figure exactly as
``solara.FigurePlotly`` does. Same widget (plotly's FigureWidget, whose plotly.js ships in the
plotly wheel), so it works offline just the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import solara
from plotly.graph_objs._figurewidget import FigureWidget


def plain(value: Any) -> Any:
    """The figure as plain Python lists and numbers. Numpy arrays left in a widget's state break
    ipywidgets' echo check (``array == array`` has no truth value) when the browser reports a
    relayout, which kills the session's later updates."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def apply_figure(widget: FigureWidget, fig: go.Figure) -> bool:
    """Show ``fig`` in ``widget``; True when done in place (one message), False when replaced."""
    spec = plain(fig.to_plotly_json())
    data, layout = spec.get("data", []), spec.get("layout", {})
    if len(widget.data) == len(data) and all(
        shown.type == fresh.get("type", "scatter")
        for shown, fresh in zip(widget.data, data, strict=True)
    ):
        with widget.batch_update():
            for shown, fresh in zip(widget.data, data, strict=True):
                shown.update(fresh, overwrite=True)
            widget.layout.update(layout, overwrite=True)
        return True
    widget.layout = layout
    old = len(widget.data)
    widget.add_traces(data)
    widget.data = widget.data[old:]
    return False


@solara.component
def LivePlot(fig: go.Figure) -> solara.Element:
    element = FigureWidget.element()

    def update() -> None:
        apply_figure(solara.get_widget(element), fig)

    solara.use_effect(update, [fig])
    return element
