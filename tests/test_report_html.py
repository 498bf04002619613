"""The report page is self-contained: plotly.js inline exactly once, no external scripts."""

from __future__ import annotations

import plotly.graph_objects as go

from sim.report.html import render
from sim.report.section import Section


def _section(key: str, figures: int) -> Section:
    section = Section(key, f"title {key}", "question?", "design", reading=["a <b> reading"])
    for i in range(figures):
        section.figures.append((f"{key}{i}", go.Figure(go.Bar(x=[1, 2], y=[i, 2 * i]))))
    return section


def test_page_inlines_plotly_once_and_loads_nothing_from_the_network() -> None:
    page = render([_section("a", 2), _section("b", 1)], validation=None)
    assert page.count("PlotlyConfig") == 1  # the bundle, once
    assert page.count("Plotly.newPlot") == 3
    assert "<script src=" not in page
    assert "cdn.plot.ly/plotly" not in page.replace("cdn.plot.ly/plotly-", "")  # only in comments
    assert "a &lt;b&gt; reading" in page  # text is escaped


def test_validation_block_shows_observed_target_and_status() -> None:
    checks = [
        {
            "name": "x",
            "fact": "f",
            "observed": 1.0,
            "observed_text": "1.0",
            "target": ">= 2",
            "passed": False,
            "detail": "d",
        },
        {
            "name": "y",
            "fact": "g",
            "observed": 3.0,
            "observed_text": "3.0",
            "target": ">= 2",
            "passed": True,
            "detail": "d",
        },
    ]
    page = render([], validation={"checks": checks, "seeds": 2})
    assert "1 of 2 patterns pass" in page
    assert "class='fail'" in page and "class='pass'" in page
    assert "PlotlyConfig" not in page  # no figures, no bundle


def test_figure_export_says_what_is_missing(monkeypatch) -> None:
    from sim.report import export

    monkeypatch.setattr(export.importlib.util, "find_spec", lambda name: None)
    ok, reason = export.export_available()
    assert not ok and "kaleido" in reason
    monkeypatch.undo()
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    ok, reason = export.export_available()
    assert not ok and "Chromium" in reason
