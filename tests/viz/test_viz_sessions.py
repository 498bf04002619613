"""A closed browser session leaves nothing behind in the server: its kernel and its models go."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import pytest

from sim.model import ClusterModel

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

APP = str(Path(__file__).resolve().parents[2] / "sim" / "viz" / "app.py")


def live_models() -> int:
    gc.collect()
    return sum(isinstance(obj, ClusterModel) for obj in gc.get_objects())


def test_closing_the_page_frees_its_kernel_and_models(
    solara_server: Any, solara_app: Any, page_session: Any
) -> None:
    from solara.server import kernel_context

    page_session.goto("about:blank")
    time.sleep(1)
    before = live_models()
    with solara_app(APP):
        for _ in range(2):
            page_session.goto(solara_server.base_url)
            page_session.locator(".klaster-quarter", has_text="quarter 0").wait_for()
            page_session.get_by_role("button", name="Step", exact=True).click()
            page_session.locator(".klaster-quarter", has_text="quarter 1").wait_for()
            assert live_models() >= before + 2  # this session's model and its twin
            page_session.goto("about:blank")  # the page closes: solara closes its kernel
        deadline = time.monotonic() + 20
        while live_models() > before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert kernel_context.contexts == {} or len(kernel_context.contexts) <= 1
        assert live_models() == before
