"""The regime presets, listed once: their names, labels and where their files live.

A preset is an ordinary scenario file in ``scenarios/``, which the package carries as
``sim/data/scenarios`` (a link to the top-level folder in a checkout, the files themselves in an
installed wheel): one copy, found the same way in both. The list here says which of them are
the regimes a comparison, the browser view, the benchmarks and the report range over, and
which one is the no-policy baseline that gains are measured against.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SCENARIO_DIR = Path(str(files("sim") / "data" / "scenarios"))

BASELINE = "no_policy"
PRESET_LABELS: dict[str, str] = {
    "no_policy": "No policy",
    "top_down": "Top-down",
    "demand_driven": "Demand-driven",
    "bottom_up": "Bottom-up",
}
PRESETS: tuple[str, ...] = tuple(PRESET_LABELS)  # the baseline first, then the three regimes
REGIMES: tuple[str, ...] = tuple(name for name in PRESETS if name != BASELINE)
