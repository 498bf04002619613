"""Starting the SolaraViz server: offline (assets from the installed package, no telemetry) and
with the app file of this package. ``klaster viz`` and the screenshot tool both use it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"

# Solara phones home and, unless told otherwise, may point browsers at a CDN. Researchers' office
# networks often have neither; serve every asset from the local solara-assets copy instead.
OFFLINE_ENV: dict[str, str] = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_ASSETS_PROXY": "true",
}


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the server runs in: caller's environment plus the offline settings."""
    env = dict(os.environ if base is None else base)
    env.update(OFFLINE_ENV)
    return env


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line; ``--no-check-version`` only where this solara knows it."""
    command = [sys.executable, "-m", "solara", "run", str(APP_PATH)]
    command += ["--host", host, "--port", str(port), "--no-open", "--production"]
    if _supports_no_check_version():
        command.append("--no-check-version")
    return command


def _supports_no_check_version() -> bool:
    try:
        from solara.__main__ import run
    except Exception:  # an unexpected solara layout: run without the flag rather than fail
        return False
    return any("--no-check-version" in param.secondary_opts for param in run.params)


def address(host: str, port: int) -> str:
    """The URL to open: a wildcard bind is still reached through loopback on this machine."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"
