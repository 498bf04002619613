"""One self-contained HTML page: plotly.js inlined once, every figure after it reuses it.

Opening the page needs no network: no CDN, no external stylesheet or script.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from sim.report.section import Section
from sim.runner.numbers import MIN_SEEDS, number

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{margin-top:2.2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0 1.2em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f3f3f3}
table.num td{white-space:nowrap}
td:first-child,th:first-child{text-align:left}
.q{font-style:italic}.facts td{text-align:left}.reading li{margin:.25em 0}
.pass{color:#1a7f37;font-weight:600}.fail{color:#b42318;font-weight:600}
nav a{margin-right:1em}.tablewrap{overflow-x:auto}
.warn{background:#fff4e5;border-left:4px solid #e69f00;padding:.5em 1em}
"""


def _table(frame: pd.DataFrame, caption: str) -> str:
    body = frame.to_html(
        border=0,
        na_rep="n/a",
        float_format=number,
        classes="num",
        escape=True,
        index=not isinstance(frame.index, pd.RangeIndex),
    )
    return f"<p><b>{html.escape(caption)}</b></p><div class='tablewrap'>{body}</div>"


def _facts(facts: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    return (
        f"<details><summary>Manifest facts</summary><table class='facts'>{rows}</table></details>"
    )


def validation_block(checks: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The validation table: each stylized fact, observed next to target, pass or fail."""
    rows = []
    for c in checks:
        status = "pass" if c.get("passed") else "fail"
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(c.get('name')))}</td>"
            f"<td>{html.escape(str(c.get('fact')))}</td>"
            f"<td>{html.escape(str(c.get('observed_text', c.get('observed'))))}</td>"
            f"<td>{html.escape(str(c.get('target')))}</td>"
            f"<td class='{status}'>{status}</td>"
            f"<td>{html.escape(str(c.get('detail', '')))}</td>"
            "</tr>"
        )
    passed = sum(bool(c.get("passed")) for c in checks)
    head = (
        "<tr><th>check</th><th>stylized fact (model brief)</th><th>observed</th><th>target</th>"
        "<th></th><th>how measured</th></tr>"
    )
    facts = {k: v for k, v in meta.items() if k != "checks"}
    return (
        "<h2 id='validation'>7. Validation (pattern-oriented modelling)</h2>"
        "<p class='q'>Does the default calibration reproduce the model brief's stylized facts "
        "together?</p>"
        f"<p>{passed} of {len(checks)} patterns pass. A failed pattern is a finding about the "
        "model, reported as is; targets come from the brief, not from model output.</p>"
        f"<div class='tablewrap'><table>{head}{''.join(rows)}</table></div>" + _facts(facts)
    )


def render(
    sections: list[Section],
    validation: dict[str, Any] | None,
    title: str = "klaster: SME cluster policy experiments",
    missing: list[str] | None = None,
) -> str:
    """The whole page. plotly.js is inlined with the first figure only."""
    parts: list[str] = []
    first = True
    nav = [f"<a href='#{s.key}'>{html.escape(s.title)}</a>" for s in sections]
    if validation:
        nav.append("<a href='#validation'>7. Validation</a>")
    for s in sections:
        block = [
            f"<h2 id='{s.key}'>{html.escape(s.title)}</h2>",
            f"<p class='q'>{html.escape(s.question)}</p>",
            *(f"<p class='warn'>{html.escape(w)}</p>" for w in s.warnings),
            f"<p><b>Design:</b> {html.escape(s.design)}</p>",
            "<p><b>Reading</b> (generated from the numbers below):</p><ul class='reading'>"
            + "".join(f"<li>{html.escape(line)}</li>" for line in s.reading)
            + "</ul>",
        ]
        for _, fig in s.figures:
            block.append(fig.to_html(full_html=False, include_plotlyjs=first))
            first = False
        for caption, table in s.tables:
            block.append(_table(table, caption))
        block.append(_facts(s.facts))
        parts.append("\n".join(block))
    if validation:
        parts.append(validation_block(validation.get("checks", []), validation))
    note = ""
    if missing:
        note = (
            "<p><b>Not run yet:</b> "
            + ", ".join(html.escape(m) for m in missing)
            + " (run <code>make experiments</code>).</p>"
        )
    built = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<p>Agent-based comparison of top-down, demand-driven and bottom-up SME cluster policy, "
        "from an Indonesian news report ('SME cluster development tends to fail'). Means carry "
        f"95% bootstrap intervals when at least {MIN_SEEDS} seeds stand behind them; from "
        "fewer, a mean is shown alone with its number of seeds and no verdict is drawn. "
        "Readings are generated from those intervals: a ranking puts '>' only between a pair "
        "whose interval excludes zero. Numbers are rounded to 3 significant digits (4 from "
        "1,000 up); the result folders hold them in full, with a columns.csv giving every "
        f"column's unit and meaning. Built {built}.</p>"
        f"<nav>{' '.join(nav)}</nav>{note}" + "\n".join(parts) + "</body></html>"
    )
