"""The browser view as a user feels it: click-to-redraw per step, Play's pace, Reset, page errors.

``python -m bench.viz_redraw`` starts ``klaster viz``'s server on a free loopback port, opens it
in headless Chromium (``/usr/bin/chromium``), and measures

- **step**: from the click on Step until the overview heading and every plotly title that names
  a quarter show the new one (model, twin, figures, websocket and plotly.js redraw), median
  over ``--steps`` steps after the first;
- **play**: milliseconds per quarter while Play runs at its default interval;
- **reset**: from the click on Reset (after stepping) until quarter 0 is drawn again;
- **page errors**: uncaught exceptions and console errors in the page over the whole session;
- **server memory per session**: the server's resident memory after ``--sessions`` more browser
  sessions (each opened, stepped once, closed) against after the first one, per session.

Prints the numbers and writes them to ``bench/viz_latest.json`` (git-ignored). A benchmark, not
a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from sim.viz import browser
from sim.viz.server import offline_env, solara_command

try:
    from sim.viz.server import start, stop
except ImportError:  # an older checkout, measured for a before/after comparison

    def start(command: list[str], **popen: Any) -> subprocess.Popen:
        return subprocess.Popen(command, **popen)

    def stop(process: subprocess.Popen) -> None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


OUT = Path(__file__).with_name("viz_latest.json")
VIEWPORT = {"width": 1680, "height": 1400}

# True once the overview heading and every plotly title that names a quarter show quarter k
# (sim.viz.browser.SHOWS_QUARTER; copied, since this bench also measures older checkouts)
SHOWS_QUARTER = """k => {
    const head = document.querySelector('.klaster-quarter');
    const scope = document.querySelector('.klaster-regime-tab') || document;  // not the dialog
    const titles = [...scope.querySelectorAll('.js-plotly-plot .gtitle')]
        .map(t => t.textContent).filter(t => /quarter \\d+$/.test(t));
    return !!head && head.textContent.endsWith('quarter ' + k)
        && titles.length > 0 && titles.every(t => t.endsWith('quarter ' + k));
}"""
QUARTER_NOW = "() => +document.querySelector('.klaster-quarter').textContent.split(' ').pop()"


def _click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def _timed(page: Any, button: str, quarter: int) -> float:
    page.get_by_role("button", name=button, exact=True).wait_for()
    started = time.perf_counter()
    _click(page, button)
    page.wait_for_function(SHOWS_QUARTER, arg=quarter)
    return (time.perf_counter() - started) * 1000


def measure(page: Any, steps: int, play_quarters: int) -> dict[str, Any]:
    page.wait_for_function(SHOWS_QUARTER, arg=0)
    step_ms = [_timed(page, "Step", k) for k in range(1, steps + 1)]
    reset_ms = _timed(page, "Reset", 0)
    # Play: time the quarters after the first one lands (the first includes the task start-up)
    _click(page, "▶")
    page.wait_for_function(f"() => ({QUARTER_NOW})() >= 1")
    first, started = page.evaluate(QUARTER_NOW), time.perf_counter()
    page.wait_for_function(f"() => ({QUARTER_NOW})() >= {first + play_quarters}", timeout=120_000)
    elapsed = (time.perf_counter() - started) * 1000
    last = page.evaluate(QUARTER_NOW)
    _click(page, "❚❚")
    page.get_by_role("button", name="▶", exact=True).wait_for()
    after = step_ms[1:] or step_ms
    return {
        "steps": steps,
        "step_ms_median": statistics.median(after),
        "step_ms_mean": statistics.fmean(after),
        "step_ms_max": max(after),
        "step_ms_first": step_ms[0],
        "reset_ms": reset_ms,
        "play_ms_per_quarter": elapsed / max(last - first, 1),
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_session(chromium: Any, url: str) -> None:
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(".klaster-quarter")
    page.wait_for_function(SHOWS_QUARTER, arg=page.evaluate(QUARTER_NOW))
    _timed(page, "Step", page.evaluate(QUARTER_NOW) + 1)
    page.goto("about:blank")  # leaving the page, as closing its tab does: solara is told
    context.close()


def session_memory(chromium: Any, url: str, pid: int, sessions: int) -> dict[str, float]:
    """Server memory after one session, and its growth per session over ``sessions`` more."""
    one_session(chromium, url)
    time.sleep(2)
    first = rss_mib(pid)
    curve = []
    for i in range(sessions):
        one_session(chromium, url)
        if (i + 1) % 10 == 0:
            curve.append(round(rss_mib(pid)))
    time.sleep(5)  # closing happens on the server after the page has gone
    last = rss_mib(pid)
    return {
        "sessions": sessions,
        "server_rss_mib_every_10_sessions": curve,
        "server_rss_mib_after_first": first,
        "server_rss_mib_after_all": last,
        "server_mib_per_session": (last - first) / max(sessions, 1),
    }


def run(steps: int, play_quarters: int, port: int | None, sessions: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    port = port or browser.free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start(
        solara_command("127.0.0.1", port),
        env=offline_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    errors: list[str] = []
    try:
        browser.wait_until_serving(url)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(**browser.launch_options())
            page = chromium.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
            )
            page.goto(url)
            result = measure(page, steps, play_quarters)
            page.wait_for_timeout(1000)  # errors thrown after the last redraw still count
            page.close()
            if sessions:
                result.update(session_memory(chromium, url, server.pid, sessions))
            chromium.close()
    finally:
        stop(server)
    result["page_errors"] = len(errors)
    result["page_error_messages"] = sorted(set(errors))[:10]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="steps to time (first excluded)")
    parser.add_argument("--play", type=int, default=10, help="quarters to time under Play")
    parser.add_argument("--sessions", type=int, default=10, help="sessions for the memory check")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result = run(args.steps, args.play, args.port, args.sessions)
    for key, value in result.items():
        shown = f"{value:.0f}" if isinstance(value, float) else value
        print(f"  {key}: {shown}")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
