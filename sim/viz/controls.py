"""Regime controls and the view's own state, kept per browser session in solara reactives.

Mesa's model_params sliders have fixed starting values, so picking another preset could not move
them, and a slider left where it started would silently override the new preset's value. The
regime controls therefore live here: choosing a preset moves every slider to that preset's
values, and SolaraViz's Reset rebuilds the model from what the sliders say, through the
``settings`` callable handed to it as a fixed model parameter.
"""

from __future__ import annotations

import solara

from sim.scenario.presets import PRESET_LABELS, PRESETS
from sim.viz.viz_model import PolicySettings

DEFAULT_SCENARIO = "top_down"

# Module-level reactives are per session (solara scopes them to each browser kernel).
settings = solara.reactive(PolicySettings.from_preset(DEFAULT_SCENARIO))
shock_size = solara.reactive(0.5)
colour_by = solara.reactive("competitiveness")
network_cluster: solara.Reactive[int | None] = solara.reactive(None)

# slider name -> label, min, max, step; floats unless the step is an int
SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "planning_quality": ("Planning quality", 0.0, 1.0, 0.05),
    "market_attention": ("Market attention", 0.0, 1.0, 0.05),
    "monitoring": ("Monitoring", 0.0, 1.0, 0.05),
    "open_share": ("Non-discrimination (open share)", 0.0, 1.0, 0.05),
    "budget": ("Budget per quarter", 0.0, 1000.0, 25.0),
    "selected_clusters": ("Designated clusters", 0, 60, 1),
}


def current_settings() -> PolicySettings:
    """What Reset builds: read at Reset time, in the session that pressed it."""
    return settings.value


def choose_preset(name: str | None) -> None:
    if name:
        settings.value = PolicySettings.from_preset(name)


def set_value(name: str, value: float) -> None:
    settings.value = settings.value.with_values(**{name: value})


def css_name(name: str) -> str:
    """Stable class names so tests and screenshots can find a control without its label text."""
    return "klaster-" + name.replace("_", "-")


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
        solara.Text(
            f"Preset: {PRESET_LABELS[current.preset]}. Picking one moves the sliders to it.",
            style={"font-size": "0.8em", "color": "#666"},
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


def ShockControls(model: object) -> solara.Element:
    """The demand-shock trigger: hits export demand now, in the regime and its twin alike."""
    count, set_count = solara.use_state(0)

    def fire() -> None:
        model.trigger_shock(size=float(shock_size.value), segments=("export",))
        set_count(count + 1)

    with solara.Column(gap="4px", classes=["klaster-shock"]) as column:
        solara.SliderFloat(
            "Export demand shock size",
            value=shock_size,
            min=0.1,
            max=0.9,
            step=0.05,
            thumb_label=True,
        )
        solara.Button(
            "Demand shock",
            color="error",
            outlined=True,
            on_click=fire,
            icon_name="mdi-flash",
        )
        shocks = getattr(model, "shocks", [])
        if shocks:
            last = shocks[-1]
            solara.Text(
                f"Shock of {last.size:.0%} to export demand at quarter {last.step}"
                f" ({len(shocks)} so far); it shows from the next step.",
                style={"font-size": "0.8em"},
            )
    return column
