"""Optional SVG/PNG export of the report's figures, for papers.

Needs kaleido and a Chromium (kaleido 1.x drives a system browser, e.g. /usr/bin/chromium).
Anything missing means the export is skipped with a reason, never an error: the HTML report
does not depend on it.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sim.report.section import Section

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def export_available() -> tuple[bool, str]:
    if importlib.util.find_spec("kaleido") is None:
        return False, "figure export skipped: kaleido is not installed (pip install kaleido)"
    if not any(shutil.which(b) for b in BROWSERS):
        return False, "figure export skipped: no Chromium found for kaleido"
    return True, ""


def export_figures(sections: list[Section], folder: Path) -> tuple[int, str]:
    """Write every figure as SVG and PNG; return (files written, reason when none)."""
    ok, reason = export_available()
    if not ok:
        return 0, reason
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        for section in sections:
            for name, fig in section.figures:
                for fmt in ("svg", "png"):
                    fig.write_image(folder / f"{name}.{fmt}", format=fmt, width=1000, height=500)
                    written += 1
    except Exception as exc:  # noqa: BLE001 (a broken browser must not fail the report)
        return written, f"figure export stopped: {type(exc).__name__}: {exc}"
    return written, ""
