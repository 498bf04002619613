"""Experiment 2, decomposition: which ingredient of bottom-up carries how much of its difference
from top-down?

Each variant switches one ingredient on from top-down (``td+...``) or off from bottom-up
(``bu-...``); its effect is measured against its base regime and as a share of the gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report import figures
from sim.report.analyses.common import HEADLINE, ci_pct, design_text, pairing_note
from sim.report.results import ExperimentResults
from sim.report.section import Section
from sim.report.statistics import compare, verdict


def analyse_decomposition(results: ExperimentResults) -> Section:
    ok = results.ok
    section = Section(
        "decomposition",
        "2. Decomposition",
        "Which ingredient of bottom-up carries how much of its difference from top-down? From "
        "top-down, switch one on; from bottom-up, switch one off.",
        design_text(results),
        facts=results.facts(),
    )
    td = ok[ok["scenario"] == "top_down"]
    bu = ok[ok["scenario"] == "bottom_up"]
    gap = compare(bu, td, HEADLINE)
    rows = []
    for name in pd.unique(ok["scenario"]):
        if not (name.startswith("td+") or name.startswith("bu-")):
            continue
        base_name = "top_down" if name.startswith("td+") else "bottom_up"
        base = ok.loc[ok["scenario"] == base_name]
        part = ok.loc[ok["scenario"] == name]
        ci = compare(part, base, HEADLINE)
        raw = compare(part, base, "cumulative_value_added")
        # a share of the gap means something only when the gap itself is resolved
        share = ci.estimate / gap.estimate if gap.excludes_zero() else np.nan
        if base_name == "bottom_up":
            share = -share  # switching off: the share of the gap it removes
        rows.append(
            {
                "variant": name,
                "base": base_name,
                "ingredient": name[3:],
                "estimate": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "verdict": verdict(ci),
                "pairing": ci.pairing,
                "cum_va_estimate": raw.estimate,
                "cum_va_low": raw.low,
                "cum_va_high": raw.high,
                "share_of_bu_td_gap": share,
                "takeup": part["takeup_rate"].mean() if "takeup_rate" in part else np.nan,
                "employment_change": part["employment"].mean() / base["employment"].mean() - 1,
            }
        )
    table = pd.DataFrame(rows)
    section.summaries["decomposition"] = table
    if len(table):
        section.tables.append(
            (
                "Change in the value added index against the base regime [95% CI]; share of "
                "the bottom-up minus top-down gap (point estimate)",
                table.round(4),
            )
        )
        for start, label in (
            ("td+", "from top-down, one ingredient on"),
            ("bu-", "from bottom-up, one ingredient off"),
        ):
            part = table[table["variant"].str.startswith(start)]
            if len(part):
                section.figures.append(
                    (
                        f"decomposition_{start[:2]}",
                        figures.interval_bars(
                            part,
                            "variant",
                            f"Value added index vs base, {label} (95% CI)",
                            "difference in value added index (ratio)",
                        ),
                    )
                )
    reading = [
        f"Bottom-up minus top-down value added index in this experiment: {ci_pct(gap)} "
        f"(points of starting value added; {gap.pairing})."
    ]
    for r in table.sort_values("estimate", ascending=False).itertuples() if len(table) else []:
        reading.append(
            f"{r.variant}: {ci_pct(r)} vs {r.base} ({r.verdict}; {r.pairing}); cumulative value "
            f"added {r.cum_va_estimate:+,.0f} [{r.cum_va_low:+,.0f}, {r.cum_va_high:+,.0f}]."
        )
    reading.append(
        "Shares of the gap are point estimates of ingredient effects over the total gap; they "
        "need not add to one (ingredients interact) and are left empty when the gap's own "
        "interval includes zero (no gap to decompose). " + pairing_note(results)
    )
    section.reading = reading
    return section
