"""Export of the reports' figures for papers: PNG at 300 dpi, SVG and PDF.

Plotly renders static images with kaleido (a project dependency), which drives a Chromium the
machine already has (kaleido 1.x, through choreographer: ``BROWSER_PATH`` if set, else
``chromium``/``google-chrome`` on the PATH; Debian's ``/usr/bin/chromium`` on CI). Nothing is
downloaded at run time: without a browser, ``export_available`` says so and the command stops
before writing anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import zlib
from pathlib import Path

import plotly.graph_objects as go

from sim.scenario.errors import EnvironmentFailure

FORMATS = ("png", "svg", "pdf")
DPI = 300
WIDTH_INCHES = 7.0  # a full text width in most journals
CSS_DPI = 100  # plotly lays the figure out in pixels; the PNG is scaled to DPI
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def browser() -> str | None:
    """The Chromium kaleido will use, if any (``BROWSER_PATH`` first, as choreographer does)."""
    given = os.environ.get("BROWSER_PATH")
    if given:
        return given if os.access(given, os.X_OK) else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def export_available() -> tuple[bool, str]:
    """Whether figures can be exported here, and if not, what is missing."""
    if importlib.util.find_spec("kaleido") is None:
        return False, "figure export needs kaleido: reinstall the project (make install)"
    if browser() is None:
        return False, (
            "figure export needs Chromium for kaleido and found none: install it (Debian: "
            "apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium binary"
        )
    return True, ""


def export_figures(figures: list[tuple[str, go.Figure]], folder: Path) -> list[Path]:
    """Write every figure as ``name.png`` (300 dpi, 7 inches wide), ``name.svg`` and
    ``name.pdf`` into ``folder``; one browser session renders them all."""
    import plotly.io as pio

    folder.mkdir(parents=True, exist_ok=True)
    width = int(WIDTH_INCHES * CSS_DPI)
    figs, paths, formats, scales, heights = [], [], [], [], []
    for name, fig in figures:
        height = int(fig.layout.height or 450)
        for fmt in FORMATS:
            figs.append(fig)
            paths.append(folder / f"{name}.{fmt}")
            formats.append(fmt)
            scales.append(DPI / CSS_DPI if fmt == "png" else 1)
            heights.append(height)
    todo = list(range(len(figs)))
    for _attempt in range(3):  # a browser that drops a render under load: ask again for it
        if not todo:
            break
        try:
            pio.write_images(
                [figs[i] for i in todo],
                [paths[i] for i in todo],
                format=[formats[i] for i in todo],
                scale=[scales[i] for i in todo],
                width=[width] * len(todo),
                height=[heights[i] for i in todo],
            )
        except Exception as exc:  # noqa: BLE001 (a browser that fails: one line, not a traceback)
            raise EnvironmentFailure(
                f"figure export to {folder} failed: {type(exc).__name__}: {exc}"
            ) from None
        todo = [i for i in todo if not paths[i].is_file() or paths[i].stat().st_size == 0]
    if todo:
        raise EnvironmentFailure(
            f"figure export to {folder} failed: the browser wrote no {paths[todo[0]].name}"
        )
    for path in paths:
        if path.suffix == ".png":
            set_png_dpi(path, DPI)
    return paths


def set_png_dpi(path: Path, dpi: int) -> None:
    """Record the resolution in the PNG (its pHYs chunk), so a journal's tools read 300 dpi."""
    data = path.read_bytes()
    signature, header_end = data[:8], 8 + 8 + 13 + 4  # signature, IHDR (length, type, body, crc)
    per_metre = round(dpi / 0.0254)
    body = struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", len(body)) + b"pHYs" + body
    chunk += struct.pack(">I", zlib.crc32(b"pHYs" + body) & 0xFFFFFFFF)
    rest = _without_chunk(data[header_end:], b"pHYs")
    path.write_bytes(signature + data[8:header_end] + chunk + rest)


def _without_chunk(chunks: bytes, kind: bytes) -> bytes:
    out, at = bytearray(), 0
    while at < len(chunks):
        length = struct.unpack(">I", chunks[at : at + 4])[0]
        end = at + 12 + length
        if chunks[at + 4 : at + 8] != kind:
            out += chunks[at:end]
        at = end
    return bytes(out)
