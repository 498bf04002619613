"""Experiment 1, regimes: does top-down do worse than demand-driven and bottom-up on the default
world, and by how much, with the same budget?

Intervals per regime for every outcome, contrasts of the value added index and of raw cumulative
value added, value added per unit of budget, and interval stability (Lee et al. 2015).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report import figures
from sim.report.analyses.common import (
    HEADLINE,
    HEADLINE_LABEL,
    REGIMES,
    ci_pct,
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
from sim.report.analyses.posterior import add_posterior_verdicts
from sim.report.results import ExperimentResults
from sim.report.section import Section
from sim.report.statistics import TOO_FEW, compare, interval_stability
from sim.runner.numbers import MIN_SEEDS, number, signed

REGIME_OUTCOMES = [
    (HEADLINE, HEADLINE_LABEL),
    ("cumulative_value_added", "cumulative value added, all policy quarters"),
    ("value_added_growth", "value added growth, last year vs start"),
    ("employment", "employment, last year"),
    ("va_per_worker", "value added per worker, last year"),
    ("market_share", "market share vs outside competitors"),
    ("export_share", "export share of sales"),
    ("survival", "survival of founding firms"),
    ("takeup_rate", "programme take-up"),
    ("support_gini", "Gini of support across clusters"),
    ("share_unsupported", "share of clusters never supported"),
    ("vertical_linkage", "vertical linkage (local input share)"),
    ("joint_action", "joint action"),
    ("budget_spent", "budget spent"),
]


QUESTION = (
    "Does top-down do worse than demand-driven and bottom-up on the default world, and by how "
    "much, with the same budget?"
)


def analyse_regimes(
    results: ExperimentResults,
    key: str = "regimes",
    title: str = "1. Regimes",
    question: str = QUESTION,
) -> Section:
    """The regime comparison; ``key`` names its summaries and figures (``regimes_effects``...).

    results: the experiment's runs
    key: the section's name, prefixed to every summary table and figure
    title: the section's heading in the report
    question: the question the section answers
    """
    ok = results.ok
    order = preferred_order(ok["scenario"], REGIMES)
    section = Section(key, title, question, design_text(results), facts=results.facts())
    columns = [c for c, _ in REGIME_OUTCOMES if c in ok]
    intervals = scenario_intervals(ok, columns, order)
    wide = interval_table(intervals)[order]
    wide = with_units(wide.reindex([c for c in columns if c in wide.index]))
    section.tables.append(("Mean [95% bootstrap CI] per regime", wide))
    section.summaries[f"{key}_intervals"] = intervals

    effects = regime_effects(ok, order).drop(columns=["outcome", "relative"])
    section.summaries[f"{key}_effects"] = effects
    shown = ["comparison", "estimate", "low", "high", "cohens_d", "d_z", "verdict", "pairing"]
    section.tables.append(
        (
            "Effect on the value added index: difference of means a - b, in points of the runs' "
            "starting value added [95% CI]; Cohen's d (pooled sd of runs) and d_z (mean over sd "
            "of the per-seed differences, paired only)",
            effects[shown].round(4),
        )
    )
    cumulative = pd.DataFrame()
    if "cumulative_value_added" in ok:
        cumulative = regime_effects(ok, order, "cumulative_value_added").drop(columns="outcome")
        section.summaries[f"{key}_effects_cumulative_va"] = cumulative
        section.tables.append(
            (
                "Effect on raw cumulative value added (all policy quarters): a - b [95% CI], and "
                "as a share of b's mean; meaningful when paired (same worlds), otherwise swamped "
                "by world-to-world variation",
                cumulative[["comparison", "estimate", "low", "high", "relative", "d_z"]]
                .assign(verdict=cumulative["verdict"], pairing=cumulative["pairing"])
                .round(4),
            )
        )
    ci_table = intervals[intervals["outcome"] == HEADLINE]
    section.figures.append(
        (
            f"{key}_distribution",
            figures.distributions(
                ok,
                HEADLINE,
                order,
                ci_table,
                "Value added index per run (run mean / policy start - 1), by regime",
            ),
        )
    )
    section.figures.append(
        (
            f"{key}_effects",
            figures.interval_bars(
                effects,
                "comparison",
                "Effect on the value added index (a - b, 95% CI)",
                "difference in value added index (ratio)",
            ),
        )
    )
    # efficiency: value added gained per unit of budget against no policy
    efficiency = []
    if "no_policy" in order:
        base = ok[ok["scenario"] == "no_policy"]
        for name in order:
            if name == "no_policy":
                continue
            part = ok[ok["scenario"] == name]
            budget = part["budget_spent"].mean()
            diff = compare(part, base, "cumulative_value_added")
            if budget > 0:
                efficiency.append(
                    {
                        "regime": name,
                        "va_gain_per_budget": diff.estimate / budget,
                        "low": diff.low / budget,
                        "high": diff.high / budget,
                        "budget_spent": budget,
                        "pairing": diff.pairing,
                    }
                )
    efficiency = pd.DataFrame(efficiency)
    if len(efficiency):
        section.tables.append(
            ("Value added gained per unit of budget spent, vs no policy [95% CI]", efficiency)
        )
        section.summaries[f"{key}_efficiency"] = efficiency
    # interval stability (Lee et al. 2015)
    stab = []
    for name in order:
        values = ok[ok["scenario"] == name].sort_values("replicate")[HEADLINE]
        table = interval_stability(values)
        table.insert(0, "scenario", name)
        stab.append(table)
    stab = pd.concat(stab, ignore_index=True) if stab else pd.DataFrame()
    if len(stab):
        section.figures.append(
            (
                f"{key}_stability",
                figures.stability(
                    stab, "Interval stability: 95% CI half-width of the mean value added index vs n"
                ),
            )
        )
        section.summaries[f"{key}_stability"] = stab
    if results.steps is not None:
        section.figures.append(
            (
                f"{key}_paths",
                figures.trajectories(
                    results.steps,
                    "step",
                    "value_added",
                    "scenario",
                    "Value added per quarter, by regime",
                    figures.axis_label("value_added"),
                    bands=False,  # levels differ mostly between worlds: see the contrasts
                ),
            )
        )
    section.reading = _read_regimes(intervals, effects, cumulative, efficiency, stab, order)
    section.reading.append(pairing_note(results))
    add_posterior_verdicts(section, ok, order)  # only when the runs drew from a posterior
    return section


def _read_regimes(intervals, effects, cumulative, efficiency, stab, order) -> list[str]:
    out: list[str] = []
    head = intervals[intervals["outcome"] == HEADLINE].sort_values("mean", ascending=False)
    if head.empty:
        return out
    ranked = [(r.scenario, pct(r.mean)) for r in head.itertuples()]
    out.append(f"Ranking by mean value added index: {ranking(ranked, effects)}.")
    for r in effects.itertuples():
        d_z = f", d_z = {r.d_z:.2f}" if np.isfinite(r.d_z) else ""
        out.append(
            f"{r.a} vs {r.b}: {ci_pct(r)} ({r.verdict}; d = {r.cohens_d:.2f}{d_z}; {r.pairing})."
        )
    for r in cumulative.itertuples() if len(cumulative) else []:
        shown = (
            signed(r.estimate)
            if r.verdict == TOO_FEW
            else f"{signed(r.estimate)} [{signed(r.low)}, {signed(r.high)}]"
        )
        out.append(
            f"Cumulative value added (wage units), {r.a} minus {r.b}: {shown} "
            f"({pct(r.relative, 2)} of {r.b}; {r.verdict}; {r.pairing})."
        )
    for r in efficiency.itertuples() if len(efficiency) else []:
        enough = int(r.pairing.split("(")[-1].split()[0]) >= MIN_SEEDS if "(" in r.pairing else 1
        shown = (
            f"{number(r.va_gain_per_budget)} [{number(r.low)}, {number(r.high)}]"
            if enough
            else f"{number(r.va_gain_per_budget)} ({TOO_FEW} for an interval)"
        )
        out.append(
            f"{r.regime}: {shown} wage units of value added per wage unit of budget against no "
            f"policy ({r.pairing})."
        )
    if len(stab):
        last = stab.groupby("scenario")["n"].max()
        parts = []
        for name in order:
            s = stab[stab["scenario"] == name].set_index("n")["relative_half_width"]
            n_max = int(last[name])
            at30 = f"{pct(s[30], 2)} at n=30, " if 30 in s.index and n_max > 30 else ""
            parts.append(f"{name}: {at30}{pct(s[n_max], 2)} at n={n_max}")
        out.append(
            "Interval stability (relative CI half-width of the mean; Lee et al. 2015): "
            + "; ".join(parts).replace("+", "")
            + ". The half-width shrinks roughly as 1/sqrt(n); no ranking above rests on a "
            "difference smaller than these half-widths unless its own interval says so."
        )
    return out
