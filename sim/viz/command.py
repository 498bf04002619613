"""``klaster viz``: serve the interactive SolaraViz view, offline and bound to loopback.

Kept import-light: ``klaster --help`` imports this module, so solara is only touched in ``main``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from sim.input_errors import InputError

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"

# Solara phones home and, unless told otherwise, may point browsers at a CDN. Researchers' office
# networks often have neither; serve every asset from the local solara-assets copy instead.
OFFLINE_ENV: dict[str, str] = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_ASSETS_PROXY": "true",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"interface to bind (default {DEFAULT_HOST}: this machine only; 0.0.0.0 shares it)",
    )


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


def main(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected a port number between 1 and 65535")
    if importlib.util.find_spec("solara") is None:
        raise InputError(
            "the browser view needs the viz extra: pip install -e '.[viz]' (or run `make viz`)"
        )
    command = solara_command(args.host, args.port)
    print(f"klaster viz: serving at {address(args.host, args.port)}  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(command, env=offline_env())
    except KeyboardInterrupt:
        return 0
