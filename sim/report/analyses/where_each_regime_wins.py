"""Experiment 7, where each regime wins: scenario discovery over the uncertain world.

A Latin hypercube samples the world's uncertain parameters; at every point the three regimes run
on the same seeds (``seeds: paired``). For each outcome of interest (bottom-up beats top-down,
demand-driven beats top-down, top-down beats both, and top-down beats bottom-up, on the value
added index) PRIM finds the box of parameter space where it holds most densely
(``sim.report.discovery``). Without EMA Workbench the section says how to install it and shows
the base rates only.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sim.report import figures
from sim.report.analyses.common import HEADLINE, HEADLINE_LABEL, ci_pct, design_text
from sim.report.discovery import (
    INSTALL_HINT,
    MAX_RESTRICTED,
    MIN_COVERAGE,
    Discovery,
    discover,
    prim_available,
)
from sim.report.results import ExperimentResults
from sim.report.section import Section
from sim.report.statistics import compare, verdict

QUESTIONS: dict[str, tuple[str, ...]] = {
    # question -> (winner, loser, ...): the winner's index exceeds every loser's
    "bottom-up beats top-down": ("bottom_up", "top_down"),
    "demand-driven beats top-down": ("demand_driven", "top_down"),
    "top-down beats both": ("top_down", "bottom_up", "demand_driven"),
    # the converse of the first: when one regime wins almost everywhere, the box of the few
    # points where it does not is the informative one
    "top-down beats bottom-up": ("top_down", "bottom_up"),
}


def analyse_where_each_regime_wins(results: ExperimentResults) -> Section:
    ok = results.ok
    section = Section(
        "where_each_regime_wins",
        "7. Where each regime wins (scenario discovery)",
        "Sampling the uncertain world widely: in which region of it does each regime do better? "
        "PRIM boxes of the parameter space where bottom-up or demand-driven beats top-down, or "
        "top-down beats both.",
        design_text(results),
        facts=results.facts(),
    )
    factors = [f for f in results.factors if f in ok]
    if HEADLINE not in ok or not factors or ok.empty:
        section.reading = ["No runs with the value added index and sampled factors to analyse."]
        return section
    points = (
        ok.pivot_table(index=[*factors, "replicate"], columns="scenario", values=HEADLINE)
        .groupby(level=factors)
        .mean()  # replicates of a point averaged: the point's expected index under each regime
    )
    x = points.index.to_frame(index=False).rename(columns=_short)
    reading, boxes, found = [], [], []
    for question, (winner, *losers) in QUESTIONS.items():
        if not {winner, *losers} <= set(points.columns):
            continue
        holds = (points[winner] > points[list(losers)].max(axis=1)).to_numpy()
        discovery = discover(x, holds, question)
        found.append(discovery)
        reading.append(_read(discovery))
        boxes.append(_box_rows(discovery))
    for winner, loser in (("bottom_up", "top_down"), ("demand_driven", "top_down")):
        if {winner, loser} <= set(ok["scenario"]):
            ci = compare(ok[ok["scenario"] == winner], ok[ok["scenario"] == loser], HEADLINE)
            reading.append(
                f"Over the whole sample, {winner} minus {loser} ({HEADLINE_LABEL}): {ci_pct(ci)} "
                f"({verdict(ci)}; {ci.pairing})."
            )
    if not prim_available():
        reading.append(INSTALL_HINT)
    reading.append(
        f"A box is the densest step of PRIM's peeling trajectory that still covers at least "
        f"{MIN_COVERAGE:.0%} of the points where the outcome holds and restricts at most "
        f"{MAX_RESTRICTED} parameters (coverage: share of those "
        "points inside the box; density: share of the box's points where it holds; mass: share "
        "of all points inside). 'Beats' compares the value added index at each point (the mean "
        "over its replicates; regimes paired on the same seeds), with no tolerance, so run noise "
        "alone makes an outcome hold at some points: read density against the base rate."
    )
    section.reading = reading
    table = pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame()
    if not table.empty:
        section.summaries["where_each_regime_wins_boxes"] = table
    rates = pd.DataFrame(
        [
            {
                "question": d.question,
                "points": d.points,
                "holds at": d.cases,
                "base rate": round(d.base_rate, 3),
                "box coverage": None if d.box is None else round(d.box.coverage, 3),
                "box density": None if d.box is None else round(d.box.density, 3),
                "box mass": None if d.box is None else round(d.box.mass, 3),
            }
            for d in found
        ]
    )
    section.tables.append(("Outcomes of interest: base rate and PRIM box", rates))
    section.summaries["where_each_regime_wins_rates"] = rates
    if not table.empty:
        section.tables.append(("PRIM boxes: the restricted parameters", table.round(4)))
    if any(d.box is not None for d in found):
        section.figures.append(("prim_trajectories", _trajectories(found)))
        section.figures.append(("prim_boxes", _limits(found)))
    return section


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _read(d: Discovery) -> str:
    head = f"{d.question}: at {d.cases} of {d.points} points ({100 * d.base_rate:.0f}%)"
    if d.box is None:
        return f"{head}; {d.note}." if d.note and d.note != INSTALL_HINT else f"{head}."
    if d.box.limits.empty:
        return f"{head}; PRIM finds no box denser than the whole space."
    ranges = "; ".join(
        f"{r.parameter} {r.low:.3g} to {r.high:.3g} (sampled {r.sampled_low:.3g} to "
        f"{r.sampled_high:.3g})"
        for r in d.box.limits.itertuples()
    )
    return (
        f"{head}. PRIM box: {ranges}. Coverage {d.box.coverage:.2f}, density "
        f"{d.box.density:.2f} (base rate {d.base_rate:.2f}), mass {d.box.mass:.2f}."
    )


def _box_rows(d: Discovery) -> pd.DataFrame:
    if d.box is None:
        return pd.DataFrame()
    return d.box.limits.assign(
        question=d.question,
        coverage=d.box.coverage,
        density=d.box.density,
        mass=d.box.mass,
        base_rate=d.base_rate,
    )[
        [
            "question",
            "parameter",
            "low",
            "high",
            "sampled_low",
            "sampled_high",
            "coverage",
            "density",
            "mass",
            "base_rate",
        ]
    ]


COLOURS = {
    "bottom-up beats top-down": figures.PALETTE["bottom_up"],
    "demand-driven beats top-down": figures.PALETTE["demand_driven"],
    "top-down beats both": figures.PALETTE["top_down"],
    "top-down beats bottom-up": "#9467bd",
}


def _trajectories(found: list[Discovery]) -> go.Figure:
    """Coverage against density along each peeling trajectory; the chosen box ringed."""
    fig = go.Figure()
    for d in found:
        if d.box is None:
            continue
        t = d.box.trajectory
        fig.add_trace(
            go.Scatter(
                x=t["coverage"],
                y=t["density"],
                mode="lines+markers",
                name=d.question,
                marker={"color": COLOURS.get(d.question), "size": 5},
                text=[f"{n} restricted" for n in t["restricted"]],
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[d.box.coverage],
                y=[d.box.density],
                mode="markers",
                marker={"symbol": "circle-open", "size": 16, "color": COLOURS.get(d.question)},
                showlegend=False,
                hovertext=f"{d.question}: chosen box",
            )
        )
    fig.update_layout(
        title="PRIM peeling trajectories (ringed: the box reported)",
        xaxis_title="coverage",
        yaxis_title="density",
        **figures.LAYOUT,
    )
    return fig


def _limits(found: list[Discovery]) -> go.Figure:
    """Each box's restricted ranges as bars over the sampled range (0 = its low end, 1 = high)."""
    fig = go.Figure()
    for d in found:
        if d.box is None or d.box.limits.empty:
            continue
        lim = d.box.limits
        span = (lim["sampled_high"] - lim["sampled_low"]).where(lambda s: s > 0, 1.0)
        low = (lim["low"] - lim["sampled_low"]) / span
        high = (lim["high"] - lim["sampled_low"]) / span
        fig.add_trace(
            go.Bar(
                y=lim["parameter"],
                x=high - low,
                base=low,
                orientation="h",
                name=d.question,
                marker={"color": COLOURS.get(d.question)},
                text=[f"{a:.3g} to {b:.3g}" for a, b in zip(lim["low"], lim["high"], strict=True)],
            )
        )
    fig.update_layout(
        title="PRIM boxes: restricted parameters, as a share of the sampled range",
        xaxis={
            "title": "position in the sampled range (0 = low end, 1 = high end)",
            "range": [0, 1],
        },
        yaxis={"title": "uncertain world parameter"},
        barmode="group",
        **figures.LAYOUT,
    )
    return fig
