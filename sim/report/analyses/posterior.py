"""Verdicts over a posterior ensemble: does a contrast hold over the whole posterior, or only part?

When an experiment ran over a calibration's accepted parameter sets (``posterior:``), every run
carries the values it drew. For each contrast and each calibrated parameter the runs are split at
the parameter's median draw, and the paired contrast is recomputed in each half (under common
seeds both regimes of a replicate drew the same set, so pairs stay together). A verdict holds over
the whole posterior when it is the same in both halves of every parameter; otherwise the table
names the half where it ties (which may be lost power: half the runs) or flips (the opposite
verdict, resolved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.analyses.common import HEADLINE, contrast_pairs
from sim.report.section import Section
from sim.report.statistics import compare, verdict

DRAW = "posterior_draw"
OPPOSITE = {"beats": "loses", "loses": "beats"}


def posterior_keys(ok: pd.DataFrame) -> list[str]:
    """The drawn parameters: dotted columns that vary across draws."""
    if DRAW not in ok:
        return []
    return [c for c in ok.columns if "." in c and ok[c].nunique(dropna=True) > 1]


def posterior_verdicts(ok: pd.DataFrame, order: list[str], column: str = HEADLINE) -> pd.DataFrame:
    """One row per contrast: the verdict over all runs, and where in the posterior it changes.

    ok: the successful runs, with posterior_draw and the drawn values as columns
    order: the regimes, in the report's order
    column: the outcome the contrasts compare
    """
    keys = posterior_keys(ok)
    rows = []
    for a, b in contrast_pairs(order):
        x, y = ok[ok["scenario"] == a], ok[ok["scenario"] == b]
        overall = verdict(compare(x, y, column))
        changes = []
        for key in keys:
            cut = float(np.median(ok[key]))
            for low_half in (True, False):
                keep_x = x[key] <= cut if low_half else x[key] > cut
                keep_y = y[key] <= cut if low_half else y[key] > cut
                if keep_x.sum() < 2 or keep_y.sum() < 2:
                    continue
                half = verdict(compare(x[keep_x], y[keep_y], column))
                if half != overall:
                    changes.append(f"{half} where {key} {'<=' if low_half else '>'} {cut:.3g}")
        flips = any(c.startswith(OPPOSITE.get(overall, "-")) for c in changes)
        if not changes:
            holds = "whole posterior"
        elif flips:
            holds = "part of the posterior: flips"
        else:
            holds = "part of the posterior: ties in a half"
        rows.append(
            {
                "comparison": f"{a} vs {b}",
                "verdict": overall,
                "holds": holds,
                "where it changes": "; ".join(changes),
            }
        )
    return pd.DataFrame(rows)


def add_posterior_verdicts(section: Section, ok: pd.DataFrame, order: list[str]) -> None:
    """Add the table and a reading line when the experiment ran over a posterior."""
    keys = posterior_keys(ok)
    if not keys:
        return
    table = posterior_verdicts(ok, order)
    section.summaries[f"{section.key}_posterior_verdicts"] = table
    section.tables.append(
        (
            f"Verdicts over the posterior ({ok[DRAW].nunique()} parameter sets drawn): each "
            "contrast recomputed in the low and high half of every calibrated parameter",
            table,
        )
    )
    whole = int((table["holds"] == "whole posterior").sum())
    flips = int(table["holds"].str.endswith("flips").sum())
    section.reading.append(
        f"Over the calibration's posterior, {whole} of {len(table)} verdicts hold in both halves "
        f"of every calibrated parameter and {flips} flip in some half. A tie in a half may be "
        "lost power (each half has half the runs); a flip is the opposite verdict, resolved."
    )
