"""The view in a real headless Chromium: offline, steps, rebuilds on Reset, switches regimes.

Each test loads a fresh page (a fresh solara kernel, so fresh controls) of ``sim/viz/app.py``
served in-process by pytest-ipywidgets; see conftest.py for the browser and offline set-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.viz.browser import NetworkLog

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

APP = str(Path(__file__).resolve().parents[2] / "sim" / "viz" / "app.py")


def mesa_counter(k: int) -> re.Pattern[str]:
    """SolaraViz's own step counter: "Step: k" in Mesa 3.3, "Time: k.0" in Mesa 3.5."""
    return re.compile(rf"^(Step: {k}|Time: {k}(\.0)?)$")


TIMEOUT_MS = 30_000


@pytest.fixture()
def page(solara_test_app: Any) -> Any:
    return solara_test_app


@pytest.fixture()
def solara_test_app(solara_server: Any, solara_app: Any, page_session: Any) -> Iterator[Any]:
    """The app loaded in the session's page, with every request logged."""
    page_session.set_default_timeout(TIMEOUT_MS)
    # Leave the previous test's page first: its close beacon is aborted by design, not a failure.
    page_session.goto("about:blank")
    log = NetworkLog().attach(page_session)
    with solara_app(APP):
        page_session.goto(solara_server.base_url)
        page_session.get_by_text(mesa_counter(0)).wait_for()
        page_session.locator(".klaster-quarter", has_text="quarter 0").wait_for()
        page_session.locator(".js-plotly-plot .gtitle").first.wait_for()
        page_session.network_log = log
        yield page_session
    log.detach(page_session)


def quarter_shown(page: Any, k: int) -> None:
    """Wait for the sidebar counter, the overview heading and the redrawn map to show ``k``."""
    page.get_by_text(mesa_counter(k)).wait_for()
    page.wait_for_function(
        """k => {
            const head = document.querySelector('.klaster-quarter');
            const titles = [...document.querySelectorAll('.js-plotly-plot .gtitle')]
                .map(t => t.textContent);
            return !!head && head.textContent.endsWith('quarter ' + k)
                && titles.some(t => t.endsWith('quarter ' + k));
        }""",
        arg=k,
    )


def series_paths(page: Any) -> list[str]:
    """The drawn lines of the outcome charts (SVG path data), to see that they changed."""
    return page.locator(".js-plotly-plot .scatterlayer .js-line").evaluate_all(
        "els => els.map(e => e.getAttribute('d'))"
    )


def click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def test_page_loads_offline_with_every_view(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    log: NetworkLog = page.network_log
    assert log.requests, "no requests recorded"
    assert log.external == [], f"requests left 127.0.0.1: {log.external}"
    assert log.failed == [], f"failed requests: {log.failed}"
    assert page.locator(".js-plotly-plot").count() == 3  # map, network, outcome series
    for text in ("Clusters by region", "Firm network", "Headline outcomes", "Supported clusters"):
        assert page.get_by_text(text).first.is_visible(), text
    for button in ("Reset", "Step", "Demand shock", "Top-down", "Bottom-up"):
        assert page.get_by_role("button", name=button, exact=True).is_visible(), button


def test_step_advances_counter_and_redraws_charts(page: Any) -> None:
    before = series_paths(page)
    click(page, "Step")
    quarter_shown(page, 1)
    click(page, "Demand shock")
    page.get_by_text("Shock of 50% to export demand at quarter 1").wait_for()
    click(page, "Step")
    quarter_shown(page, 2)
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .scatterlayer .js-line').length >= n",
        arg=len(before),
    )
    after = series_paths(page)
    assert after != before, "outcome charts did not change after two steps"
    assert page.locator(".klaster-overview").get_by_text("Last step: model").is_visible()
    # The support table fills once the designated clusters have been paid.
    page.locator(".klaster-support").get_by_text("Supported clusters: 25").wait_for()
    assert page.network_log.failed == []


def test_slider_change_applies_on_reset(page: Any) -> None:
    ingredients = page.locator(".klaster-ingredients")
    assert "planning quality 0.30" in ingredients.inner_text()
    click(page, "Step")
    quarter_shown(page, 1)
    thumb = page.locator(".klaster-planning-quality [role=slider]")
    thumb.focus()
    for _ in range(4):  # 0.30 -> 0.50 in steps of 0.05
        thumb.press("ArrowRight")
    page.get_by_text("Regime controls changed").wait_for()
    assert "planning quality 0.30" in ingredients.inner_text()  # not before Reset
    click(page, "Reset")
    quarter_shown(page, 0)
    page.locator(".klaster-ingredients", has_text="planning quality 0.50").wait_for()
    assert page.get_by_text("Regime controls changed").count() == 0


def test_switching_scenario_changes_the_regime(page: Any) -> None:
    heading = page.locator(".klaster-quarter")
    assert heading.inner_text().startswith("Top-down")
    click(page, "Bottom-up")
    # Picking a preset moves the sliders to it; the running model stays until Reset.
    page.get_by_text("Regime controls changed").wait_for()
    click(page, "Reset")
    page.locator(".klaster-quarter", has_text="Bottom-up - quarter 0").wait_for()
    ingredients = page.locator(".klaster-ingredients").inner_text()
    assert "open share 1.00" in ingredients and "designated 0" in ingredients
    for k in (1, 2):
        click(page, "Step")
        quarter_shown(page, k)
    # Open, non-discriminating: no designated clusters on the map, support through the open call.
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert "designated (0)" in legend, legend
    titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
    assert "Headline outcomes - bottom_up against no policy" in titles, titles


def shown_quarter(page: Any) -> int:
    return int(page.locator(".klaster-quarter").inner_text().rsplit(" ", 1)[-1])


def test_play_runs_and_pause_stops(page: Any) -> None:
    click(page, "▶")
    page.wait_for_function(
        "() => +document.querySelector('.klaster-quarter').textContent.split(' ').pop() >= 3"
    )
    click(page, "❚❚")
    page.get_by_role("button", name="▶", exact=True).wait_for()
    page.wait_for_timeout(500)  # a step already under way may still land
    stopped = shown_quarter(page)
    page.wait_for_timeout(1500)
    assert shown_quarter(page) == stopped
    quarter_shown(page, stopped)  # the charts caught up with the counter
