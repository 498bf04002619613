"""``klaster viz`` stops what it starts: signals reach the server, nothing keeps serving after."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sim.viz import server
from sim.viz.browser import free_port, wait_until_serving

KLASTER = Path(sys.executable).with_name("klaster")
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(120)"
)


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_server_settings_cull_closed_sessions_and_stay_offline() -> None:
    env = server.offline_env({})
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "60s"  # not solara's 24 hours
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    child = server.start([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    started = time.monotonic()
    code = server.wait_forwarding_signals(child, grace=1.0)
    assert code == -signal.SIGKILL  # forwarded, ignored, then killed
    assert time.monotonic() - started < 15
    assert signal.getsignal(signal.SIGTERM) == before  # our own handlers are restored


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_to_klaster_viz_stops_its_server() -> None:
    port = free_port()
    viz = subprocess.Popen(
        [str(KLASTER), "viz", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", timeout=90)
        (solara,) = children_of(viz.pid)
        viz.send_signal(signal.SIGTERM)
        assert viz.wait(timeout=30) == 0  # a requested stop is a normal end
        assert wait_gone(solara), "the solara server outlived klaster viz"
        assert not port_open(port)
    finally:
        if viz.poll() is None:
            viz.kill()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG, /proc")
def test_killed_klaster_viz_takes_its_server_down() -> None:
    port = free_port()
    viz = subprocess.Popen(
        [str(KLASTER), "viz", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", timeout=90)
        (solara,) = children_of(viz.pid)
        viz.kill()  # SIGKILL: no chance to forward anything
        viz.wait(timeout=10)
        assert wait_gone(solara), "an orphaned solara server kept serving"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if viz.poll() is None:
            viz.kill()
