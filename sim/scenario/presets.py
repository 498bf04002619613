"""The regime presets, listed once: their names, labels and where their files live.

A preset is an ordinary scenario file in ``scenarios/``; the list here says which of them are
the regimes a comparison, the browser view, the benchmarks and the report range over, and
which one is the no-policy baseline that gains are measured against.
"""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"

BASELINE = "no_policy"
PRESET_LABELS: dict[str, str] = {
    "no_policy": "No policy",
    "top_down": "Top-down",
    "demand_driven": "Demand-driven",
    "bottom_up": "Bottom-up",
}
PRESETS: tuple[str, ...] = tuple(PRESET_LABELS)  # the baseline first, then the three regimes
REGIMES: tuple[str, ...] = tuple(name for name in PRESETS if name != BASELINE)
