"""Browser-test harness for the SolaraViz view: Debian's chromium, offline solara, loopback only.

pytest-ipywidgets (``solara_server``, ``solara_app``, ``page_session``) runs the app in-process and
pytest-playwright launches the browser. Playwright must never download a browser, so we point it at
``/usr/bin/chromium``. Without chromium the browser tests skip on a developer's machine but fail in
CI (``CI=true``), where a silent skip would hide a broken view.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from sim.viz.browser import CHROMIUM, free_port, launch_options

# Where the server would fetch an asset missing from the local copy: a closed loopback port, so a
# CDN fallback cannot leave the machine and shows up as a failed request in the tests.
DEAD_CDN = "http://127.0.0.1:9/"
INSTALL_HINT = (
    "the browser tests need Debian's chromium at {path}: sudo apt-get install chromium "
    "(or set KLASTER_CHROMIUM to another chromium binary); playwright must not download one"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(
        CHROMIUM
    ):
        return INSTALL_HINT.format(path=CHROMIUM)
    for module in ("playwright", "pytest_playwright", "solara"):
        try:
            __import__(module)
        except ImportError:
            return f"the browser tests need the dev and viz extras ({module} missing): make install"
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Make the in-process solara server offline and loopback-only before any test starts it."""
    try:
        import solara.server.settings as server_settings
        import solara.settings
    except ImportError:
        return
    solara.settings.assets.proxy = True  # browsers fetch assets from our server, not a CDN
    solara.settings.assets.cdn = DEAD_CDN
    server_settings.telemetry.mixpanel_enable = False
    if hasattr(config.option, "solara_host"):
        config.option.solara_host = "127.0.0.1"
        # Other checkouts may run their own test servers on this machine: never share a port.
        config.option.solara_port = free_port()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = chromium_missing()
    if reason is None or in_ci():
        return  # in CI the launch fixture below fails loudly instead
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system chromium with the flags a sandbox-less headless CI box needs."""
    reason = chromium_missing()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return {**browser_type_launch_args, **launch_options()}
