"""Screenshot the running view from a real browser, and time a step as the user feels it.

``python -m sim.viz.screenshot --out docs/img/viz.png`` starts ``klaster viz`` on a free loopback
port, opens it in headless Chromium, steps the default world (with one demand shock, so the
charts show a response), saves a PNG and prints milliseconds per step: from the click on Step
to the step counter and charts showing the new quarter (model, twin, figures, websocket, render).
It then saves the cluster detail (``viz-detail.png``) and the four regimes (``viz-regimes.png``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sim.viz import browser
from sim.viz.server import offline_env, solara_command, start, stop

VIEWPORT = {"width": 1680, "height": 2150}


# True once the overview heading and the cluster map's own title (drawn by plotly) show quarter k
SHOWS_QUARTER = """k => {
    const head = document.querySelector('.klaster-quarter');
    const scope = document.querySelector('.klaster-regime-tab') || document;  // not the dialog
    const titles = [...scope.querySelectorAll('.js-plotly-plot .gtitle')]
        .map(t => t.textContent);
    return !!head && head.textContent.endsWith('quarter ' + k)
        && titles.some(t => t.endsWith('quarter ' + k));
}"""


def step_once(page: object, expected: int) -> float:
    """Click Step; time until the overview and the redrawn map both show quarter ``expected``."""
    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for()
    started = time.perf_counter()
    step.click()
    page.wait_for_function(SHOWS_QUARTER, arg=expected)
    return (time.perf_counter() - started) * 1000


def extra_shots(page: object, out: Path) -> None:
    """The cluster detail (a click on the map) and the four regimes side by side, beside ``out``
    as ``<name>-detail.png`` and ``<name>-regimes.png``."""
    page.locator(".klaster-map .scatterlayer .point").first.click(force=True)
    dialog = page.locator(".klaster-detail-card")
    dialog.wait_for()
    page.wait_for_timeout(1200)
    dialog.screenshot(path=str(out.with_name(f"{out.stem}-detail.png")))
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    page.get_by_role("tab", name="Four regimes side by side").click()
    page.get_by_role("button", name="Run the four regimes").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.klaster-regimes .gtitle')]"
        ".some(t => t.textContent.endsWith('quarter 40'))",
        timeout=180_000,
    )
    page.wait_for_timeout(1200)
    page.locator(".klaster-regimes").screenshot(path=str(out.with_name(f"{out.stem}-regimes.png")))


def run(
    out: Path, steps: int, shock_at: int, port: int | None, extras: bool = True
) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    port = port or browser.free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start(
        solara_command("127.0.0.1", port),
        env=offline_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        browser.wait_until_serving(url)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(**browser.launch_options())
            page = chromium.new_page(viewport=VIEWPORT)
            page.set_default_timeout(30_000)
            log = browser.NetworkLog().attach(page)
            page.goto(url)
            page.wait_for_function(SHOWS_QUARTER, arg=0)
            times = []
            for k in range(1, steps + 1):
                if k == shock_at:
                    page.get_by_role("button", name="Demand shock", exact=True).click()
                times.append(step_once(page, k))
            page.wait_for_timeout(800)  # let plotly finish its last transition
            out.parent.mkdir(parents=True, exist_ok=True)
            bottom = page.evaluate(
                "() => Math.max(...['.klaster-left', '.klaster-right'].map("
                "s => document.querySelector(s).getBoundingClientRect().bottom))"
            )
            clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": int(bottom) + 24}
            page.screenshot(path=str(out), clip=clip)
            if extras:
                extra_shots(page, out)
            chromium.close()
    finally:
        stop(server)
    result = {
        "steps": float(steps),
        "ms_per_step_median": statistics.median(times[1:] or times),
        "ms_per_step_mean": statistics.fmean(times[1:] or times),
        "ms_per_step_max": max(times),
        "requests": float(len(log.requests)),
        "external_requests": float(len(log.external)),
        "failed_requests": float(len(log.failed)),
    }
    for url_ in log.external + log.failed:
        print(f"  not offline-clean: {url_}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img/viz.png"))
    parser.add_argument("--steps", type=int, default=16, help="quarters to step before the shot")
    parser.add_argument("--shock-at", type=int, default=9, help="quarter of the demand shock")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--only-main", action="store_true", help="skip the detail and four-regime screenshots"
    )
    args = parser.parse_args(argv)
    result = run(args.out, args.steps, args.shock_at, args.port, extras=not args.only_main)
    print(f"screenshot: {args.out}")
    for key, value in result.items():
        print(f"  {key}: {value:.1f}")
    return 1 if result["external_requests"] or result["failed_requests"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
