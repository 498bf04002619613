"""Run and regime controls, and the view's own state, kept per browser session in solara reactives.

Choosing a preset moves every slider to that preset's values; moving a slider marks the regime
"modified". Reset builds a new model from what the sliders say. Step, Play and Reset replace the
model (or step it) and bump a counter the panels listen to: the page's widgets stay, and each
panel updates its own content in place.
"""

from __future__ import annotations

import threading
import time
import traceback
import weakref
from typing import TypeVar

import solara
from solara.server import kernel_context

from sim.scenario.presets import PRESET_LABELS, PRESETS
from sim.viz.plot import wait_until_drawn
from sim.viz.viz_model import PolicySettings, VizModel

T = TypeVar("T")
DEFAULT_SCENARIO = "top_down"
DEFAULT_PLAY_INTERVAL_MS = 300
PLAY_DRAW_TIMEOUT_S = 3.0  # a browser tab in the background may not draw at all

# Module-level reactives are per session (solara scopes them to each browser kernel).
settings = solara.reactive(PolicySettings.from_preset(DEFAULT_SCENARIO))
seed = solara.reactive(0)
with_twin = solara.reactive(True)
play_interval = solara.reactive(DEFAULT_PLAY_INTERVAL_MS)
shock_size = solara.reactive(0.5)
colour_by = solara.reactive("competitiveness")
selected_cluster: solara.Reactive[int | None] = solara.reactive(None)
detail_open = solara.reactive(False)

# slider name -> label, min, max, step; floats unless the step is an int
SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "planning_quality": ("Planning quality", 0.0, 1.0, 0.05),
    "market_attention": ("Market attention", 0.0, 1.0, 0.05),
    "monitoring": ("Monitoring", 0.0, 1.0, 0.05),
    "open_share": ("Non-discrimination (open share)", 0.0, 1.0, 0.05),
    "budget": ("Budget per quarter (wage units)", 0.0, 1000.0, 25.0),
    "selected_clusters": ("Designated clusters", 0, 60, 1),
}
MUTED = {"font-size": "0.8em", "color": "#666"}


def released_with_session(models: T) -> T:
    """Free ``models`` (anything with ``release()``) when this browser session ends: page closed,
    or culled after its browser vanished. Held weakly: a Reset frees the old model at once."""
    try:
        context = kernel_context.get_current_context()
    except Exception:  # no server session (a test rendering components in-process)
        return models
    held = weakref.ref(models)

    def release() -> None:
        alive = held()
        if alive is not None:
            alive.release()

    context.on_close(release)
    return models


def build_model() -> VizModel:
    """The model the controls describe: what the page starts with and what Reset builds."""
    model = VizModel(settings=settings.value, seed=int(seed.value), baseline=bool(with_twin.value))
    return released_with_session(model)


def choose_preset(name: str | None) -> None:
    if name:
        settings.value = PolicySettings.from_preset(name)


def set_value(name: str, value: float) -> None:
    settings.value = settings.value.with_values(**{name: value})


def css_name(name: str) -> str:
    """Stable class names so tests and screenshots can find a control without its label text."""
    return "klaster-" + name.replace("_", "-")


def describe_changes(current: PolicySettings) -> str:
    """Which ingredients differ from the preset, e.g. "planning quality 0.5 (preset 0.3)"."""
    preset = PolicySettings.from_preset(current.preset)
    moved = [
        f"{label.split(' (')[0].lower()} {getattr(current, name):g} "
        f"(preset {getattr(preset, name):g})"
        for name, (label, *_) in SLIDERS.items()
        if getattr(current, name) != getattr(preset, name)
    ]
    return "; ".join(moved)


@solara.component
def RunControls(model: solara.Reactive[VizModel], tick: solara.Reactive[int]) -> None:
    """Reset, Play/Pause and Step. Play steps at its interval, counted from one step's start to
    the next (a step that takes longer than the interval is followed at once by the next)."""
    playing = solara.use_reactive(False)
    error = solara.use_reactive(None)

    def do_step() -> None:
        model.value.step()
        tick.value += 1  # the panels listening to the tick redraw, in this thread

    def play(cancel: threading.Event) -> None:
        try:
            while playing.value and not cancel.is_set():
                started = time.perf_counter()
                do_step()
                # never faster than the browser draws: a backlog of steps would only grow
                wait_until_drawn(model.value.plots.values(), timeout=PLAY_DRAW_TIMEOUT_S)
                cancel.wait(play_interval.value / 1000 - (time.perf_counter() - started))
        except Exception as exc:  # shown in the sidebar; the view stays usable
            traceback.print_exc()
            error.value = f"Play stopped: {exc}"
            playing.value = False

    # a plain daemon thread, cancelled when Play stops or the session ends (solara.lab.use_task
    # registers every task in a process-wide list that keeps the session's model for ever)
    solara.use_thread(play, dependencies=[playing.value], intrusive_cancel=False)

    def do_reset() -> None:
        playing.value = False
        error.value = None
        old = model.value
        model.value = build_model()
        old.release()
        tick.value += 1

    with solara.Card("Run", margin=0, classes=["klaster-run-controls"]):
        with solara.Row(justify="space-between"):
            # no ripple: its animation repaints the page while the step's charts redraw
            solara.Button("Reset", color="primary", on_click=do_reset, ripple=False)
            solara.Button(
                "❚❚" if playing.value else "▶",
                color="primary",
                on_click=lambda: playing.set(not playing.value),
                ripple=False,
            )
            solara.Button(
                "Step", color="primary", on_click=do_step, disabled=playing.value, ripple=False
            )
        solara.SliderInt(
            "Play interval (ms)", value=play_interval, min=50, max=2000, step=50, thumb_label=True
        )
        with solara.Div(classes=["klaster-seed"]):
            solara.SliderInt("Seed", value=seed, min=0, max=99, thumb_label=True)
        solara.Checkbox(label="Run the no-policy twin alongside", value=with_twin)
        solara.Text("Seed and twin apply on Reset.", style=MUTED)
        if error.value:
            solara.Error(error.value)


@solara.component
def RegimeControls() -> None:
    """Preset picker and the six policy ingredients; changes apply on Reset."""
    current = settings.value
    with solara.Card("Regime", margin=0, classes=["klaster-regime-controls"]):
        with solara.ToggleButtonsSingle(
            value=current.preset, on_value=choose_preset, dense=True, classes=["klaster-scenario"]
        ):
            for name in PRESETS:
                solara.Button(PRESET_LABELS[name], value=name, text=True)
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"Regime: <b>{current.label}</b>",
            classes=["klaster-preset-label"],
        )
        # the same elements whether modified or not: a slider being dragged keeps its focus
        note = (
            f"Moved from the preset: {describe_changes(current)}."
            if current.modified
            else "Picking a preset moves the sliders to it."
        )
        solara.Text(note, style=MUTED)
        solara.Button(
            f"Back to {PRESET_LABELS[current.preset]}'s values",
            text=True,
            small=True,
            disabled=not current.modified,
            on_click=lambda: choose_preset(current.preset),
        )
        for name, (label, low, high, step) in SLIDERS.items():
            value = getattr(current, name)
            with solara.Div(classes=[css_name(name)]):
                shown = f"{label}: {value:g}"  # the slider itself shows no number at rest
                if isinstance(step, int):
                    solara.SliderInt(
                        shown,
                        value=int(value),
                        min=int(low),
                        max=int(high),
                        step=step,
                        on_value=lambda v, name=name: set_value(name, int(v)),
                        thumb_label=True,
                    )
                else:
                    solara.SliderFloat(
                        shown,
                        value=float(value),
                        min=low,
                        max=high,
                        step=step,
                        on_value=lambda v, name=name: set_value(name, float(v)),
                        thumb_label=True,
                    )


@solara.component
def ShockControls(model: VizModel, tick: solara.Reactive[int]) -> None:
    """The demand-shock trigger: hits export demand now, in the regime and its twin alike."""
    tick.get()  # redraw with the model, so the note on the last shock shows

    def fire() -> None:
        model.trigger_shock(size=float(shock_size.value), segments=("export",))
        tick.value += 1

    with solara.Column(gap="4px", classes=["klaster-shock"]):
        solara.SliderFloat(
            "Export demand shock size",
            value=shock_size,
            min=0.1,
            max=0.9,
            step=0.05,
            thumb_label=True,
        )
        solara.Button(
            "Demand shock", color="error", outlined=True, on_click=fire, icon_name="mdi-flash"
        )
        if model.shocks:
            last = model.shocks[-1]
            solara.Text(
                f"Shock of {last.size:.0%} to export demand at quarter {last.step}"
                f" ({len(model.shocks)} so far); it shows from the next step.",
                style={"font-size": "0.8em"},
            )
