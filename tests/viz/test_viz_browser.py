"""The view in a real headless Chromium: offline, no page errors, steps, Reset, regimes, detail.

Each test loads a fresh page (a fresh solara kernel, so a fresh model and fresh controls) of
``sim/viz/app.py`` served in-process by pytest-ipywidgets; see conftest.py for the browser and
offline set-up. Every test ends by checking that the page threw nothing and logged no error.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.viz.browser import SHOWS_QUARTER, NetworkLog

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

APP = str(Path(__file__).resolve().parents[2] / "sim" / "viz" / "app.py")
TIMEOUT_MS = 30_000


@pytest.fixture()
def page(solara_server: Any, solara_app: Any, page_session: Any) -> Iterator[Any]:
    """The app loaded in the session's page, with every request, page error and console error
    logged; the test fails if the page threw or logged an error."""
    page_session.set_default_timeout(TIMEOUT_MS)
    # Leave the previous test's page first: its close beacon is aborted by design, not a failure.
    page_session.goto("about:blank")
    log = NetworkLog().attach(page_session)
    errors: list[str] = []

    def on_error(exc: Any) -> None:
        errors.append(f"page error: {exc}")

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            errors.append(f"console error: {msg.text}")

    page_session.on("pageerror", on_error)
    page_session.on("console", on_console)
    with solara_app(APP):
        page_session.goto(solara_server.base_url)
        page_session.wait_for_function(SHOWS_QUARTER, arg=0)
        page_session.network_log = log
        yield page_session
        page_session.wait_for_timeout(300)  # an error thrown by the last redraw still counts
    page_session.remove_listener("pageerror", on_error)
    page_session.remove_listener("console", on_console)
    log.detach(page_session)
    assert errors == [], errors


def quarter_shown(page: Any, k: int) -> None:
    page.wait_for_function(SHOWS_QUARTER, arg=k)


def click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def series_paths(page: Any) -> list[str]:
    """The drawn lines of the charts (SVG path data), to see that they changed."""
    return page.locator(".js-plotly-plot .scatterlayer .js-line").evaluate_all(
        "els => els.map(e => e.getAttribute('d'))"
    )


def test_page_loads_offline_with_named_tabs_and_every_panel(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    log: NetworkLog = page.network_log
    assert log.requests, "no requests recorded"
    assert log.external == [], f"requests left 127.0.0.1: {log.external}"
    assert log.failed == [], f"failed requests: {log.failed}"
    assert page.title() == "klaster: SME cluster policy"
    tabs = page.get_by_role("tab").all_text_contents()
    assert [t.strip().lower() for t in tabs] == [
        "regime against no policy",
        "four regimes side by side",
    ], tabs
    assert page.locator(".js-plotly-plot").count() == 3  # outcome series, map, network
    for text in ("Clusters by region", "Firm network", "Headline outcomes", "Clusters supported"):
        assert page.get_by_text(text).first.is_visible(), text
    # every panel says what it shows, in words; the map's region labels are explained
    assert page.locator(".klaster-caption").count() >= 5
    assert page.get_by_text("delivery capacity").first.is_visible()
    for button in ("Reset", "Step", "Demand shock", "Top-down", "Bottom-up"):
        assert page.get_by_role("button", name=button, exact=True).is_visible(), button
    axis_titles = page.locator(".js-plotly-plot .g-ytitle").all_text_contents()
    assert any("wage units" in t for t in axis_titles), axis_titles


def test_step_redraws_every_chart_and_counts_agree(page: Any) -> None:
    before = series_paths(page)
    click(page, "Step")
    quarter_shown(page, 1)
    click(page, "Demand shock")
    page.get_by_text("Shock of 50% to export demand at quarter 1").wait_for()
    click(page, "Step")
    quarter_shown(page, 2)
    assert series_paths(page) != before, "charts did not change after two steps"
    # one count of supported clusters, the same in the overview, the support panel and the map
    support = page.locator(".klaster-support").inner_text()
    so_far = int(support.split("Clusters supported so far: ")[1].split()[0])
    overview = page.locator(".klaster-overview").inner_text()
    assert f"Clusters supported so far\t{so_far}\t" in overview, overview
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    designated = next(t for t in legend if t.startswith("designated ("))
    others = next(t for t in legend if t.startswith("supported, not designated ("))
    assert so_far <= int(designated[12:-1]) + int(others.split("(")[1][:-1])
    assert page.network_log.failed == []


def test_modified_regime_is_labelled_and_applies_on_reset(page: Any) -> None:
    label = page.locator(".klaster-preset-label")
    assert label.inner_text() == "Regime: Top-down"
    click(page, "Step")
    quarter_shown(page, 1)
    thumb = page.locator(".klaster-planning-quality [role=slider]")
    thumb.focus()
    for _ in range(4):  # 0.30 -> 0.50 in steps of 0.05
        thumb.press("ArrowRight")
    page.locator(".klaster-preset-label", has_text="Top-down (modified)").wait_for()
    page.get_by_text("Regime controls changed").wait_for()
    assert "planning quality 0.30" in page.locator(".klaster-ingredients").inner_text()
    click(page, "Reset")
    quarter_shown(page, 0)
    page.locator(".klaster-quarter", has_text="Top-down (modified) - quarter 0").wait_for()
    page.locator(".klaster-ingredients", has_text="planning quality 0.50").wait_for()
    assert page.get_by_text("Regime controls changed").count() == 0
    click(page, "Back to Top-down's values")  # the preset's own values: not modified
    page.wait_for_function(
        "() => document.querySelector('.klaster-preset-label').textContent === 'Regime: Top-down'"
    )
    assert "modified" not in label.inner_text()


def test_switching_regime_and_resetting_twice(page: Any) -> None:
    click(page, "Bottom-up")
    page.get_by_text("Regime controls changed").wait_for()
    for _ in range(2):  # Reset used to remount every panel and throw page errors
        click(page, "Reset")
        page.locator(".klaster-quarter", has_text="Bottom-up - quarter 0").wait_for()
        quarter_shown(page, 0)
    ingredients = page.locator(".klaster-ingredients").inner_text()
    assert "open share 1.00" in ingredients and "designated 0" in ingredients
    for k in (1, 2):
        click(page, "Step")
        quarter_shown(page, k)
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert "designated (0)" in legend, legend
    titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
    assert "Headline outcomes - bottom_up against no policy - quarter 2" in titles, titles


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


def test_map_click_opens_the_cluster_and_the_network_keeps_it(page: Any) -> None:
    network_title = page.locator(".klaster-network .gtitle")
    marker = page.locator(".klaster-map .scatterlayer .point").first
    marker.click(force=True)
    dialog = page.locator(".klaster-detail-card")
    dialog.wait_for()
    name = page.locator(".klaster-detail-title").inner_text().removeprefix("Cluster detail: ")
    assert dialog.get_by_text("Largest firms", exact=True).is_visible()
    assert dialog.locator(".js-plotly-plot").count() == 1  # outcomes over time
    assert dialog.get_by_role("cell", name="support so far (wage units)").is_visible()
    page.wait_for_function(
        "n => document.querySelector('.klaster-network .gtitle').textContent.includes(n)",
        arg=name,
    )
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    for k in (1, 2, 3):  # the network stays on the chosen cluster while the model steps
        click(page, "Step")
        quarter_shown(page, k)
        assert f"Firm network: {name} (" in network_title.text_content()


def test_download_holds_the_run_tables_as_csv(page: Any) -> None:
    click(page, "Step")
    quarter_shown(page, 1)
    with page.expect_download() as download:
        page.get_by_text("Download this run's tables (CSV)").click()
    assert download.value.suggested_filename == "klaster-top_down-seed0-q1.zip"
    data = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        steps = archive.read("steps.csv").decode().splitlines()
    assert {"steps.csv", "clusters.csv", "columns.csv", "settings.csv"} <= names
    assert len(steps) == 1 + 2  # header, quarters 0 and 1


@pytest.mark.slow
def test_four_regimes_side_by_side(page: Any) -> None:
    page.get_by_role("tab", name="Four regimes side by side").click()
    page.get_by_role("button", name="Run the four regimes").wait_for()
    slider = page.locator(".klaster-regimes [role=slider]")
    slider.focus()
    for _ in range(8):  # 40 -> 8 quarters, in steps of 4
        slider.press("ArrowLeft")
    click(page, "Run the four regimes")
    table = page.locator(".klaster-regime-table")
    table.wait_for(timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
        ".some(t => t.textContent.endsWith('quarter 8'))",
        timeout=120_000,
    )
    rows = table.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows] == [
        "No policy",
        "Top-down",
        "Demand-driven",
        "Bottom-up",
    ]
    legend = page.locator(".klaster-regimes .js-plotly-plot .legendtext").all_text_contents()
    assert {"No policy", "Top-down", "Demand-driven", "Bottom-up"} <= set(legend)
    page.get_by_role("tab", name="Regime against no policy").click()
    click(page, "Step")  # the first tab still steps and redraws after the round trip
    quarter_shown(page, 1)
