"""Figures are ready for print: every figure of both reports has a title and axis titles (with
units), intervals only from enough runs, and the export writes PNG (300 dpi), SVG and PDF."""

from __future__ import annotations

import os
import struct

import numpy as np
import pandas as pd
import pytest

from sim.report import figures
from sim.report.comparison import comparison_figures
from sim.runner.compare import add_baseline_gains
from sim.runner.numbers import MIN_SEEDS

REGIMES = ("no_policy", "top_down", "demand_driven", "bottom_up")


def _runs_and_steps(seeds: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    runs, steps = [], []
    for k, scenario in enumerate(REGIMES):
        for seed in range(seeds):
            world = 1000 + 100 * seed
            for step in range(5):
                steps.append(
                    {
                        "scenario": scenario,
                        "seed": seed,
                        "step": step,
                        "value_added": world + k * step + rng.normal(),
                        "market_share": 0.3 + 0.01 * k,
                        "employment": world / 2,
                        "vertical_linkage": 0.2,
                    }
                )
            runs.append(
                {
                    "scenario": scenario,
                    "seed": seed,
                    "cumulative_value_added": 5 * world + 10 * k + rng.normal(),
                    "budget_spent": 0.0 if scenario == "no_policy" else 100.0,
                }
            )
    return add_baseline_gains(pd.DataFrame(runs)), pd.DataFrame(steps)


def _every_builder() -> list:
    runs, steps = _runs_and_steps(MIN_SEEDS)
    intervals = pd.DataFrame(
        {"scenario": list(REGIMES), "mean": 0.1, "low": 0.0, "high": 0.2, "n": MIN_SEEDS}
    )
    effects = pd.DataFrame(
        {"comparison": ["a vs b", "c vs b"], "estimate": [0.1, -0.1], "low": [0, -0.2]}
    ).assign(high=[0.2, 0.0])
    grid = pd.DataFrame(
        {"x": [0.1, 0.9, 0.1, 0.9], "y": [1, 1, 2, 2], "f": [0, 0, 0, 0], "v": [1, -1, 0, 2]}
    ).assign(t=lambda d: d["v"].astype(str))
    sensitivity = pd.DataFrame(
        {"outcome": ["va_index"] * 2, "factor": ["a", "b"], "mu_star": [0.1, 0.2]}
    ).assign(mu_star_conf=0.01)
    stab = pd.DataFrame({"scenario": "top_down", "n": [5, 10], "relative_half_width": [0.2, 0.1]})
    bars = pd.DataFrame(
        {"shock_size": [0.3, 0.3], "scenario": ["top_down", "bottom_up"], "estimate": [0.1, 0.2]}
    ).assign(low=0.0, high=0.3, n=MIN_SEEDS)
    runs = runs.assign(va_index=np.linspace(0, 1, len(runs)))
    return [
        *[fig for _, fig in comparison_figures(runs, steps)],
        figures.distributions(runs, "va_index", list(REGIMES), intervals, "Index by regime"),
        figures.interval_bars(effects, "comparison", "Effects", "difference in index"),
        figures.stability(stab, "Stability"),
        figures.trajectories(steps, "step", "value_added", "scenario", "Paths", "value added"),
        figures.trajectories(
            steps.assign(size=steps["seed"] % 2),
            "step",
            "value_added",
            "scenario",
            "P",
            "v",
            "size",
        ),
        figures.heatmaps(grid, "x", "y", "v", "t", "f", "Cells", "difference"),
        figures.grouped_bars(bars, "shock_size", "scenario", "Depth", "depth (share)"),
        figures.sensitivity_bars(sensitivity, "Morris", ["mu_star"]),
    ]


def test_every_figure_has_a_title_and_axis_titles() -> None:
    built = _every_builder()
    assert len(built) >= 10
    for fig in built:
        assert figures.missing_titles(fig) == [], fig.layout.title.text


def test_missing_titles_sees_a_bare_figure() -> None:
    import plotly.graph_objects as go

    bare = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]))
    assert figures.missing_titles(bare) == ["title", "xaxis", "yaxis"]


def test_path_axes_carry_units_and_regimes_keep_their_colour() -> None:
    runs, steps = _runs_and_steps(MIN_SEEDS)
    (_, paths), *_ = comparison_figures(runs, steps)
    assert paths.layout.yaxis.title.text == "wage units per quarter"  # value added's unit
    assert paths.layout.yaxis3.title.text == "workers"  # employment's unit
    assert paths.layout.xaxis.title.text == figures.QUARTER
    lines = {t.name: t.line.color for t in paths.data if t.mode == "lines"}
    assert lines["top_down"] == figures.PALETTE["top_down"]
    assert figures.colour("td+mix") is None and figures.colour("x/bottom_up") == "#009e73"


def test_bands_only_from_enough_seeds() -> None:
    def bands(seeds: int) -> int:
        runs, steps = _runs_and_steps(seeds)
        (_, levels), (_, against_no_policy), *_ = comparison_figures(runs, steps)
        assert not any(t.fill == "toself" for t in levels.data)  # spread between worlds
        paths = against_no_policy
        title = paths.layout.title.text.replace("<br>", " ")  # long titles are wrapped
        return sum(t.fill == "toself" for t in paths.data), title

    many, title = bands(MIN_SEEDS)
    assert many == 4 * (len(REGIMES) - 1) and "95% band" in title
    few, title = bands(MIN_SEEDS - 1)
    assert few == 0 and f"no band below {MIN_SEEDS}" in title


def _png_dpi(data: bytes) -> float:
    at = data.index(b"pHYs")
    per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    assert unit == 1
    return per_metre * 0.0254


def test_export_writes_png_at_300_dpi_svg_and_pdf(tmp_path) -> None:
    from sim.report.export import export_available, export_figures

    ok, reason = export_available()
    if not ok:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    runs, steps = _runs_and_steps(MIN_SEEDS)
    written = export_figures(comparison_figures(runs, steps)[:1], tmp_path)
    assert sorted(p.suffix for p in written) == [".pdf", ".png", ".svg"]
    for path in written:
        assert path.stat().st_size > 1000, path
    png = (tmp_path / "compare_paths.png").read_bytes()
    assert png.startswith(b"\x89PNG") and round(_png_dpi(png)) == 300
    width = struct.unpack(">I", png[16:20])[0]
    assert width == 2100  # 7 inches at 300 dpi
    assert b"value added" in (tmp_path / "compare_paths.svg").read_bytes()
    assert (tmp_path / "compare_paths.pdf").read_bytes().startswith(b"%PDF")


def test_whiskers_only_where_enough_seeds_stand_behind_them() -> None:
    from sim.report.statistics import TOO_FEW

    effects = pd.DataFrame(
        {
            "comparison": ["a vs b", "c vs b"],
            "estimate": [0.1, 0.3],
            "low": [0.05, 0.1],
            "high": [0.2, 0.4],
            "verdict": ["beats", TOO_FEW],
        }
    )
    bars = figures.interval_bars(effects, "comparison", "Effects", "difference")
    upper = dict(zip(bars.data[0].y, bars.data[0].error_x.array, strict=True))
    assert upper["a vs b"] == pytest.approx(0.1) and upper["c vs b"] == 0


def test_figures_without_a_browser_stop_before_any_run(tmp_path, monkeypatch) -> None:
    from sim.cli import main as klaster

    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    out = tmp_path / "compare"
    code = klaster(["compare", "--seeds", "1", "--out", str(out), "--figures", str(tmp_path / "f")])
    assert code == 2
    assert not out.exists() and not (tmp_path / "f").exists()
