"""Starting and stopping the SolaraViz server: offline (assets from the installed package, no
telemetry), with the app file of this package, closed sessions culled, and nothing left running
when it stops. ``klaster viz``, the screenshot tool and the benchmark all use it."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
STOP_GRACE_S = 10.0  # how long the server may take to stop before it is killed
FORWARDED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Solara phones home and, unless told otherwise, may point browsers at a CDN. Researchers' office
# networks often have neither; serve every asset from the local solara-assets copy instead.
# A browser session whose page is gone without saying goodbye (closed laptop, killed browser)
# keeps its model in the server for solara's default 24 hours; here, for one minute. Each session
# runs threads, and glibc gives every thread its own malloc arena, which keeps freed memory: two
# arenas keep the server's memory flat as sessions come and go (8 MiB a session otherwise).
SERVER_ENV: dict[str, str] = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_ASSETS_PROXY": "true",
    "SOLARA_KERNEL_CULL_TIMEOUT": "60s",
    "MALLOC_ARENA_MAX": "2",
}
OFFLINE_ENV = SERVER_ENV  # the name the tests and older callers use


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the server runs in: caller's environment plus the server settings."""
    env = dict(os.environ if base is None else base)
    env.update(SERVER_ENV)
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


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the parent dies, even by SIGKILL,
    so a killed ``klaster viz`` never leaves an orphaned server serving on its port."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: forwarding and stop() still apply
        pass


def start(command: list[str], **popen: object) -> subprocess.Popen:
    """Start the server process; it goes down with this process."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, preexec_fn=preexec, **popen)  # noqa: PLW1509


def stop(process: subprocess.Popen, grace: float = STOP_GRACE_S) -> int:
    """Ask the server to stop (SIGTERM), then kill it if it has not within ``grace`` seconds
    (a Play loop still stepping in a session thread would otherwise keep it alive)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_forwarding_signals(process: subprocess.Popen, grace: float = STOP_GRACE_S) -> int:
    """Wait for the server to end. SIGINT, SIGTERM and SIGHUP sent to this process meanwhile go
    to the server too; a server still running ``grace`` seconds after the first is killed."""
    received: list[float] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(time.monotonic())
        if process.poll() is None:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while process.poll() is None:
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0] > grace:
                    process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop(process, grace)
    return process.returncode
