"""Driving the view in a real headless Chromium: shared by the browser tests and the screenshot.

Playwright must not download a browser (none can be fetched here, nor on many office networks),
so it always launches Debian's ``/usr/bin/chromium`` (override with ``KLASTER_CHROMIUM``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

CHROMIUM = os.environ.get("KLASTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS: list[str] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("data", "blob", "about")

# True once the overview heading and every plotly title that names a quarter show quarter k
SHOWS_QUARTER = """k => {
    const head = document.querySelector('.klaster-quarter');
    const scope = document.querySelector('.klaster-regime-tab') || document;  // not the dialog
    const titles = [...scope.querySelectorAll('.js-plotly-plot .gtitle')]
        .map(t => t.textContent).filter(t => /quarter \\d+$/.test(t));
    return !!head && head.textContent.endsWith('quarter ' + k)
        && titles.length > 0 && titles.every(t => t.endsWith('quarter ' + k));
}"""


def launch_options() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_ARGS)}


def is_loopback(url: str) -> bool:
    """True for URLs that cannot leave this machine (loopback hosts, data: and blob: URLs)."""
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class NetworkLog:
    """Every request a page makes, and every one that failed (transport error or HTTP >= 400)."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> NetworkLog:
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        return self

    def detach(self, page: Any) -> None:
        page.remove_listener("request", self._on_request)
        page.remove_listener("requestfailed", self._on_failed)
        page.remove_listener("response", self._on_response)

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)

    def _on_failed(self, request: Any) -> None:
        self.failed.append(f"{request.url} ({request.failure})")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    @property
    def external(self) -> list[str]:
        return [url for url in self.requests if not is_loopback(url)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, timeout: float = 60.0) -> None:
    """Poll until the server answers; solara takes a few seconds to import and start."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer from {url} after {timeout:.0f}s")
        time.sleep(0.3)
