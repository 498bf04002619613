"""Scenario discovery (sim.report.discovery, experiment 7's analysis): PRIM finds a planted box,
the analysis reads each regime's wins from paired runs, and without EMA Workbench it says how to
install it instead of failing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.report import discovery
from sim.report.analyses import ANALYSES
from sim.report.analyses import where_each_regime_wins as analysis
from sim.report.results import ExperimentResults


def _points(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "c": rng.random(n)})


def test_prim_recovers_a_planted_box() -> None:
    x = _points()
    holds = ((x["a"] > 0.6) & (x["b"] < 0.5)).to_numpy()
    found = discovery.discover(x, holds, "planted")
    assert found.cases == holds.sum() and found.points == len(x)
    box = found.box
    assert box is not None
    limits = box.limits.set_index("parameter")
    assert set(limits.index) == {"a", "b"}  # c is noise: left unrestricted
    assert limits.loc["a", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.loc["b", "high"] == pytest.approx(0.5, abs=0.05)
    assert box.coverage >= discovery.MIN_COVERAGE
    assert box.density > found.base_rate
    assert box.trajectory.loc[box.chosen, "density"] == box.density


def test_no_case_or_all_cases_give_no_box() -> None:
    x = _points(50)
    assert discovery.discover(x, np.zeros(50, bool), "never").box is None
    always = discovery.discover(x, np.ones(50, bool), "always")
    assert always.box is None and "every point" in always.note


def _results(tmp_path: Path) -> ExperimentResults:
    """Paired runs of three regimes over two factors: bottom-up wins where f1 > 0.5, top-down
    wins everywhere else; demand-driven never beats top-down."""
    x = _points(200, seed=1).rename(columns={"a": "market.f1", "b": "market.f2"})
    rows = []
    for point, row in x.iterrows():
        top = 0.1
        index = {
            "top_down": top,
            "bottom_up": top + (0.05 if row["market.f1"] > 0.5 else -0.05),
            "demand_driven": top - 0.02,
        }
        for scenario, value in index.items():
            rows.append(
                {
                    "point": point,
                    "replicate": 0,
                    "seed": point,
                    "scenario": scenario,
                    "market.f1": row["market.f1"],
                    "market.f2": row["market.f2"],
                    "va_index": value,
                }
            )
    manifest = {"design": {"factors": ["market.f1", "market.f2"], "seeds": "paired"}}
    return ExperimentResults("where_each_regime_wins", tmp_path, pd.DataFrame(rows), manifest)


def test_the_analysis_maps_where_each_regime_wins(tmp_path: Path) -> None:
    assert ANALYSES["where_each_regime_wins"] is analysis.analyse_where_each_regime_wins
    section = analysis.analyse_where_each_regime_wins(_results(tmp_path))
    boxes = section.summaries["where_each_regime_wins_boxes"]
    bottom_up = boxes[boxes["question"] == "bottom-up beats top-down"].set_index("parameter")
    assert list(bottom_up.index) == ["f1"]  # the short name of market.f1
    assert bottom_up.loc["f1", "low"] == pytest.approx(0.5, abs=0.05)
    assert bottom_up.loc["f1", "density"] == pytest.approx(1.0)
    top_down = boxes[boxes["question"] == "top-down beats both"].set_index("parameter")
    assert top_down.loc["f1", "high"] == pytest.approx(0.5, abs=0.05)
    text = " ".join(section.reading)
    assert "demand-driven beats top-down: at 0 of 200 points" in text
    assert [name for name, _ in section.figures] == ["prim_trajectories", "prim_boxes"]


def test_without_ema_workbench_the_section_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(discovery, "prim_available", lambda: False)
    monkeypatch.setattr(analysis, "prim_available", lambda: False)
    section = analysis.analyse_where_each_regime_wins(_results(tmp_path))
    assert any('pip install "klaster[ema]"' in line for line in section.reading)
    assert not section.figures
    rates = section.tables[0][1].set_index("question")
    assert rates.loc["bottom-up beats top-down", "holds at"] == pytest.approx(100, abs=25)
