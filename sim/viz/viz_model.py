"""The model as the browser view drives it: flat keyword settings and a no-policy twin in lockstep.

SolaraViz rebuilds a model on Reset by calling its class with keyword arguments, so the view needs
a class whose keywords are the controls. The twin runs the no-policy preset with the same seed
(same world, same market draws up to the first policy step), which is what lets every view show
"this regime against doing nothing" instead of a bare trajectory.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import mesa
import pandas as pd

from sim.model import ClusterModel
from sim.scenario.files import load_scenario
from sim.scenario.presets import BASELINE, PRESET_LABELS

# control name -> dotted scenario key it overrides
POLICY_KEYS: dict[str, str] = {
    "planning_quality": "policy.planning_quality",
    "market_attention": "policy.market_attention",
    "monitoring": "policy.monitoring",
    "open_share": "policy.open_share",
    "budget": "policy.budget_per_quarter",
    "selected_clusters": "policy.selected_clusters",
}


@dataclass(frozen=True)
class PolicySettings:
    """One regime as the controls express it: a preset plus the six ingredients on sliders."""

    preset: str = "top_down"
    planning_quality: float = 0.3
    market_attention: float = 0.0
    monitoring: float = 0.0
    open_share: float = 0.0
    budget: float = 400.0
    selected_clusters: int = 25

    @classmethod
    def from_preset(cls, name: str) -> PolicySettings:
        """The preset's own ingredient values, so picking a regime moves the sliders to it."""
        return _preset_settings(name)

    def overrides(self) -> dict[str, Any]:
        """Dotted scenario overrides for the ingredients that differ from the preset file."""
        preset = _preset_settings(self.preset)
        return {
            key: getattr(self, name)
            for name, key in POLICY_KEYS.items()
            if getattr(self, name) != getattr(preset, name)
        }

    def with_values(self, **changes: Any) -> PolicySettings:
        return replace(self, **changes)

    @property
    def modified(self) -> bool:
        """True when an ingredient has moved away from the preset's own value."""
        return bool(self.overrides())

    @property
    def label(self) -> str:
        """The regime's name as the view shows it: "Bottom-up", or "Bottom-up (modified)"."""
        name = PRESET_LABELS.get(self.preset, self.preset)
        return f"{name} (modified)" if self.modified else name


@cache
def _preset_settings(name: str) -> PolicySettings:
    policy = load_scenario(name).policy
    return PolicySettings(
        preset=name,
        planning_quality=float(policy.planning_quality),
        market_attention=float(policy.market_attention),
        monitoring=float(policy.monitoring),
        open_share=float(policy.open_share),
        budget=float(policy.budget_per_quarter),
        selected_clusters=int(policy.selected_clusters),
    )


def release(*models: ClusterModel | None) -> None:
    """Let a model the view no longer shows be freed. Mesa 3.3 keeps each model's agent-id
    counter in a class attribute (``mesa.Agent._ids``, keyed by the model) for the life of the
    process: a server that builds models per browser session and per Reset would keep every
    one of them (~5 MB each). Mesa 3.5 has no such table; then this does nothing."""
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is None:
        return
    for model in models:
        if model is not None:
            ids.pop(model, None)


@dataclass
class ShockRecord:
    step: int
    size: float
    segments: tuple[str, ...]


@dataclass
class StepTiming:
    """Wall-clock cost of the last step, so the view can show what stepping costs."""

    model_ms: float = 0.0
    baseline_ms: float = 0.0
    history: list[float] = field(default_factory=list)


class VizModel(ClusterModel):
    """ClusterModel plus a no-policy twin; keyword-only, as SolaraViz's Reset calls it.

    The preset keyword is ``preset``, not ``scenario``: Mesa 3.5's Reset passes its own
    ``mesa.experimental.scenarios.Scenario`` to any model whose ``__init__`` takes ``scenario``.

    ``settings`` (a PolicySettings, or a callable returning one, which is how the view's controls
    reach Reset) wins over the flat keywords. A flat keyword left at None keeps the preset's value.
    """

    def __init__(
        self,
        *,
        preset: str = "top_down",
        seed: int = 0,
        planning_quality: float | None = None,
        market_attention: float | None = None,
        monitoring: float | None = None,
        open_share: float | None = None,
        budget: float | None = None,
        selected_clusters: int | None = None,
        settings: PolicySettings | Callable[[], PolicySettings] | None = None,
        baseline: bool = True,
    ) -> None:
        if settings is None:
            flat = {
                "planning_quality": planning_quality,
                "market_attention": market_attention,
                "monitoring": monitoring,
                "open_share": open_share,
                "budget": budget,
                "selected_clusters": selected_clusters,
            }
            given = {k: v for k, v in flat.items() if v is not None}
            settings = PolicySettings.from_preset(preset).with_values(**given)
        elif callable(settings):
            settings = settings()
        self.settings: PolicySettings = settings
        # Play steps the model in another thread while panels (and a second browser tab) read
        # it: a step and a reading of the firm arrays (whose rows move at exit and entry) never
        # overlap
        self.lock = threading.RLock()
        # the plot widgets showing this model (sim.viz.plot), so Play can wait for the browser
        # (by id: plotly's widgets are not hashable)
        self.plots: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        super().__init__(scenario=settings.preset, seed=seed, overrides=settings.overrides())
        self.timing = StepTiming()
        self.shocks: list[ShockRecord] = []
        self.start_table: pd.DataFrame = self.cluster_table()
        is_baseline = settings.preset == BASELINE and not settings.overrides()
        self.baseline: ClusterModel | None = (
            ClusterModel(scenario=BASELINE, seed=seed) if baseline and not is_baseline else None
        )

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Read the model between steps (under the lock): panels see one whole quarter."""
        with self.lock:
            yield

    def step(self) -> None:
        with self.lock:
            started = time.perf_counter()
            super().step()
            middle = time.perf_counter()
            if self.baseline is not None:
                self.baseline.step()
            ended = time.perf_counter()
        self.timing.model_ms = (middle - started) * 1000
        self.timing.baseline_ms = (ended - middle) * 1000
        self.timing.history.append((ended - started) * 1000)

    def trigger_shock(
        self,
        size: float = 0.5,
        segments: tuple[str, ...] = ("export",),
        products: tuple[str, ...] = (),
    ) -> None:
        """Hit this model and its twin alike, so the comparison stays like for like."""
        with self.lock:
            super().trigger_shock(size=size, segments=segments, products=products)
            if self.baseline is not None:
                self.baseline.trigger_shock(size=size, segments=segments, products=products)
            record = ShockRecord(step=int(self.steps), size=size, segments=tuple(segments))
            self.shocks.append(record)

    def release(self) -> None:
        """Free this model and its twin once no view shows them (see ``release``)."""
        release(self, self.baseline)

    def baseline_history(self) -> pd.DataFrame | None:
        """Outcomes of the no-policy twin, or None when this model is itself the baseline."""
        return None if self.baseline is None else self.baseline.history()
