"""``klaster viz``: serve the interactive browser view, offline and bound to loopback.

Kept import-light: ``klaster --help`` imports this module, so solara is only touched in ``main``.
Stopping ``klaster viz`` (Ctrl-C, SIGTERM, SIGHUP) stops the server it started: the signal is
forwarded, and a server that has not stopped within a few seconds is killed.
"""

from __future__ import annotations

import argparse
import importlib.util

from sim.scenario.errors import InputError
from sim.viz.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    address,
    offline_env,
    solara_command,
    start,
    wait_forwarding_signals,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"interface to bind (default {DEFAULT_HOST}: this machine only; 0.0.0.0 shares it)",
    )


def main(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected a port number between 1 and 65535")
    if importlib.util.find_spec("solara") is None:
        raise InputError(
            "the browser view needs the viz extra: pip install -e '.[viz]' (or run `make viz`)"
        )
    command = solara_command(args.host, args.port)
    print(f"klaster viz: serving at {address(args.host, args.port)}  (Ctrl-C to stop)", flush=True)
    code = wait_forwarding_signals(start(command, env=offline_env()))
    # stopped by a signal (a negative code, or 128 + the signal): a normal end, not a failure
    return 0 if code <= 0 or code in (130, 143, 129) else code
