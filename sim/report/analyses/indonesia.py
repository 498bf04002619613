"""Experiment 6, Indonesia: in a stylized Indonesian world (25 designated clusters, Jepara
furniture, Cirebon rattan, the 2005 rattan export shock), how do designated and other clusters
fare under the historical top-down programme, and how would the same world fare under the
alternatives?
"""

from __future__ import annotations

import pandas as pd

from sim.report import figures
from sim.report.analyses.common import (
    HEADLINE,
    REGIMES,
    ci_pct,
    ci_pct_row,
    design_text,
    interval_table,
    pairing_note,
    pct,
    preferred_order,
    ranking,
    regime_effects,
    scenario_intervals,
    with_units,
)
from sim.report.results import ExperimentResults
from sim.report.section import Section
from sim.report.statistics import bootstrap_difference, compare


def indonesia_regime(name: str) -> str:
    return "top_down" if name == "indonesia" else name.removeprefix("indonesia_")


def analyse_indonesia(results: ExperimentResults) -> Section:
    ok = results.ok.copy()
    ok["regime"] = ok["scenario"].map(indonesia_regime)
    order = preferred_order(ok["regime"], REGIMES)
    section = Section(
        "indonesia",
        "6. Indonesia",
        "In a stylized Indonesian world (25 designated clusters, Jepara furniture, Cirebon rattan, "
        "the 2005 rattan export shock): how do designated and other clusters fare under the "
        "historical top-down programme, and how would the same world fare under the alternatives?",
        design_text(results),
        facts=results.facts(),
    )
    columns = [
        HEADLINE,
        "cumulative_value_added",
        "designated_value_added_growth",
        "other_value_added_growth",
        "designated_employment_growth",
        "other_employment_growth",
        "jepara_value_added_growth",
        "cirebon_value_added_growth",
        "cirebon_firms_growth",
        "designated_support_total",
        "other_support_total",
        "takeup_rate",
        "shock_depth",
    ]
    frame = ok.rename(columns={"scenario": "_s"}).rename(columns={"regime": "scenario"})
    intervals = scenario_intervals(frame, [c for c in columns if c in frame], order)
    section.summaries["indonesia_intervals"] = intervals
    wide = interval_table(intervals)
    wide = wide[[c for c in order if c in wide.columns]]
    section.tables.append(("Mean [95% CI] per regime", with_units(wide)))
    reading = []
    if "top_down" in order and "no_policy" in order:
        td, np_ = frame[frame["scenario"] == "top_down"], frame[frame["scenario"] == "no_policy"]
        for group in ("designated", "other"):
            col = f"{group}_value_added_growth"
            ci = compare(td, np_, col)
            reading.append(
                f"{group.capitalize()} clusters, value added growth under top-down minus no "
                f"policy: {ci.estimate:+.3f} [{ci.low:+.3f}, {ci.high:+.3f}] (growth points; "
                f"{ci.pairing})."
            )
            col = f"{group}_employment_growth"
            ci = compare(td, np_, col)
            reading.append(
                f"  employment growth, top-down minus no policy: {ci.estimate:+.3f} "
                f"[{ci.low:+.3f}, {ci.high:+.3f}]."
            )
        within = bootstrap_difference(
            td["designated_value_added_growth"], td["other_value_added_growth"], paired=True
        )
        reading.append(
            "Within top-down runs, designated minus other clusters' value added growth (paired "
            f"within runs): {within.estimate:+.3f} [{within.low:+.3f}, {within.high:+.3f}]; "
            "designated clusters were chosen for size and tradition, so this mixes selection "
            "with support."
        )
    whole = [c for c in (HEADLINE, "cumulative_value_added") if c in frame]
    effects = (
        pd.concat([regime_effects(frame, order, c) for c in whole], ignore_index=True)
        if whole
        else pd.DataFrame()
    )
    if len(effects):
        section.summaries["indonesia_effects"] = effects
        section.tables.append(
            (
                "Whole-world contrasts between regimes: value added index and raw cumulative value "
                "added, a - b [95% CI]; relative = difference over b's mean",
                effects.drop(columns=["a", "b"]).round(4),
            )
        )
        for r in effects[effects["outcome"] == HEADLINE].itertuples():
            reading.append(
                f"Whole-world value added index, {r.a} minus {r.b}: {ci_pct(r)} ({r.verdict}; "
                f"{r.pairing})."
            )
    head = intervals[intervals["outcome"] == HEADLINE].sort_values("mean", ascending=False)
    if len(head):
        ranked = [(r.scenario, ci_pct_row(r)) for r in head.itertuples()]
        headline = effects[effects["outcome"] == HEADLINE] if len(effects) else effects
        reading.append(f"Whole-world value added index: {ranking(ranked, headline)}.")
    cir = intervals[intervals["outcome"] == "cirebon_value_added_growth"]
    if len(cir):
        reading.append(
            "Cirebon rattan value added growth over the decade (with the 2005 shock): "
            + ", ".join(f"{r.scenario} {pct(r.mean)}" for r in cir.itertuples())
            + "."
        )
    bars = intervals[intervals["outcome"].str.endswith("value_added_growth")].rename(
        columns={"mean": "estimate"}
    )
    section.figures.append(
        (
            "indonesia_groups",
            figures.grouped_bars(
                bars, "outcome", "scenario", "Value added growth by group (95% CI)", "growth"
            ),
        )
    )
    if results.steps is not None:
        steps = results.steps.copy()
        steps["scenario"] = steps["scenario"].map(indonesia_regime)
        long = []
        for key, label in (("cirebon", "Cirebon rattan"), ("jepara", "Jepara furniture")):
            column = f"{key}_value_added"
            if column not in steps:
                continue
            start = steps[steps["step"] == 0].set_index(["point", "replicate"])[column]
            part = steps[["point", "replicate", "step", "scenario", column]].join(
                start.rename("start"), on=["point", "replicate"]
            )
            part["relative"] = part[column] / part["start"].where(part["start"] > 0)
            part["cluster"] = label
            long.append(part[["step", "scenario", "relative", "cluster"]])
        if long:
            section.figures.append(
                (
                    "indonesia_named",
                    figures.trajectories(
                        pd.concat(long),
                        "step",
                        "relative",
                        "scenario",
                        "Named clusters: value added relative to 2002Q1 (rattan shock: quarter 14)",
                        "value added / start",
                        facet="cluster",
                    ),
                )
            )
    reading.append(pairing_note(results))
    section.reading = reading
    return section
