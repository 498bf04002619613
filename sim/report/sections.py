"""One analysis per experiment: tables with intervals, figures, and a reading made from the numbers.

Each ``analyse_*`` takes an experiment's results and returns a ``Section``; the reading is built
from the computed intervals only (no sentence is written in advance), so a result that goes
against the article reads as such.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.report import figures
from sim.report.results import ExperimentResults
from sim.report.statistics import (
    bootstrap_difference,
    bootstrap_mean,
    cohens_d,
    compare,
    interval_stability,
    paired_d,
    seed_means,
    verdict,
)
from sim.scenario.presets import PRESETS

HEADLINE = "va_index"  # see sim.report.results.add_headline
HEADLINE_LABEL = "value added index (run mean / policy start - 1)"
REGIMES = list(PRESETS)
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
UNPAIRED_NOTE = (
    "Seeds come from SeedSequence(master_seed, spawn_key=(point, replicate)) and every scenario is "
    "its own point, so replicate i of two regimes has different seeds (a different world): "
    "differences are unpaired bootstraps of means."
)
COMMON_NOTE = (
    "Seeds are common (seeds: common): replicate r of every scenario and design point runs on the "
    "same seed, i.e. the same initial world and demand path. A contrast between groups that share "
    "their seeds is a paired bootstrap of per-seed differences (a group pooled over design points "
    "is averaged per seed first); any other is unpaired. The 'pairing' column says which each "
    "contrast used."
)


def pairing_note(results: ExperimentResults) -> str:
    """Say how this experiment's contrasts were computed, from the seeds its manifest records."""
    common = results.manifest.get("design", {}).get("seeds") == "common"
    return COMMON_NOTE if common else UNPAIRED_NOTE


def contrast_pairs(order: list[str]) -> list[tuple[str, str]]:
    """Each policy regime against no policy, and the policy regimes against each other."""
    pairs = []
    for a, b in itertools.permutations(order, 2):
        if (b != "no_policy" and a == "no_policy") or (a, b) in {
            (y, x) for x, y in itertools.combinations(order, 2) if x != "no_policy"
        }:
            continue
        pairs.append((a, b))
    return pairs


def regime_effects(ok: pd.DataFrame, order: list[str], column: str = HEADLINE) -> pd.DataFrame:
    """Contrasts a - b of ``column`` between regimes (paired by seed when seeds are shared).

    ``relative`` is the difference over b's mean: for raw cumulative value added, the policy's
    gain as a share of the world's output.
    """
    rows = []
    for a, b in contrast_pairs(order):
        x, y = ok[ok["scenario"] == a], ok[ok["scenario"] == b]
        ci = compare(x, y, column)
        base = y[column].mean()
        rows.append(
            {
                "comparison": f"{a} vs {b}",
                "a": a,
                "b": b,
                "outcome": column,
                "estimate": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                # the index is already relative to each run's start; a ratio of it means nothing
                "relative": ci.estimate / base if base and column != HEADLINE else np.nan,
                "cohens_d": cohens_d(x[column], y[column]),
                "d_z": paired_d(x, y, column),
                "verdict": verdict(ci),
                "pairing": ci.pairing,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Section:
    """What the page shows for one experiment."""

    key: str
    title: str
    question: str
    design: str
    reading: list[str] = field(default_factory=list)
    figures: list[tuple[str, go.Figure]] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    summaries: dict[str, pd.DataFrame] = field(default_factory=dict)


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:+.{digits}f}%"


def ci_pct(ci) -> str:
    return f"{pct(ci.estimate)} [{pct(ci.low)}, {pct(ci.high)}]"


def ci_pct_row(r) -> str:
    return f"{pct(r.mean)} [{pct(r.low)}, {pct(r.high)}]"


def _design_text(results: ExperimentResults) -> str:
    return results.facts()["design"]


def _order(names, preferred: list[str]) -> list[str]:
    present = list(pd.unique(pd.Series(names)))
    return [n for n in preferred if n in present] + [n for n in present if n not in preferred]


def scenario_intervals(ok: pd.DataFrame, columns: list[str], order: list[str]) -> pd.DataFrame:
    rows = []
    for name in order:
        part = ok[ok["scenario"] == name]
        for column in columns:
            if column not in part:
                continue
            ci = bootstrap_mean(part[column])
            rows.append(
                {
                    "scenario": name,
                    "outcome": column,
                    "mean": ci.estimate,
                    "low": ci.low,
                    "high": ci.high,
                    "n": ci.n,
                }
            )
    return pd.DataFrame(rows)


# ---- 1 regimes ------------------------------------------------------------------------------
def analyse_regimes(results: ExperimentResults) -> Section:
    ok = results.ok
    order = _order(ok["scenario"], REGIMES)
    section = Section(
        "regimes",
        "1. Regimes",
        "Does top-down do worse than demand-driven and bottom-up on the default world, and by how "
        "much, with the same budget?",
        _design_text(results),
        facts=results.facts(),
    )
    columns = [c for c, _ in REGIME_OUTCOMES if c in ok]
    intervals = scenario_intervals(ok, columns, order)
    wide = intervals.assign(
        value=[
            f"{m:.4g} [{lo:.4g}, {hi:.4g}]"
            for m, lo, hi in zip(
                intervals["mean"], intervals["low"], intervals["high"], strict=True
            )
        ]
    ).pivot(index="outcome", columns="scenario", values="value")[order]
    wide = wide.reindex([c for c in columns if c in wide.index])
    section.tables.append(("Mean [95% bootstrap CI] per regime", wide))
    section.summaries["regimes_intervals"] = intervals

    effects = regime_effects(ok, order).drop(columns=["outcome", "relative"])
    section.summaries["regimes_effects"] = effects
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
        section.summaries["regimes_effects_cumulative_va"] = cumulative
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
            "regimes_distribution",
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
            "regimes_effects",
            figures.interval_bars(
                effects,
                "comparison",
                "Effect on the value added index (a - b, 95% CI)",
                "difference in index",
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
        section.summaries["regimes_efficiency"] = efficiency
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
                "regimes_stability",
                figures.stability(
                    stab, "Interval stability: 95% CI half-width of the mean value added index vs n"
                ),
            )
        )
        section.summaries["regimes_stability"] = stab
    if results.steps is not None:
        section.figures.append(
            (
                "regimes_paths",
                figures.trajectories(
                    results.steps,
                    "step",
                    "value_added",
                    "scenario",
                    "Value added per quarter (mean, 95% band)",
                    "value added",
                ),
            )
        )
    section.reading = _read_regimes(intervals, effects, cumulative, efficiency, stab, order)
    section.reading.append(pairing_note(results))
    return section


def _read_regimes(intervals, effects, cumulative, efficiency, stab, order) -> list[str]:
    out: list[str] = []
    head = intervals[intervals["outcome"] == HEADLINE].sort_values("mean", ascending=False)
    if head.empty:
        return out
    out.append(
        "Ranking by mean value added index: "
        + " > ".join(f"{r.scenario} ({pct(r.mean)})" for r in head.itertuples())
        + "."
    )
    for r in effects.itertuples():
        d_z = f", d_z = {r.d_z:.2f}" if np.isfinite(r.d_z) else ""
        out.append(
            f"{r.a} vs {r.b}: {ci_pct(r)} ({r.verdict}; d = {r.cohens_d:.2f}{d_z}; {r.pairing})."
        )
    for r in cumulative.itertuples() if len(cumulative) else []:
        out.append(
            f"Cumulative value added, {r.a} minus {r.b}: {r.estimate:,.0f} [{r.low:,.0f}, "
            f"{r.high:,.0f}] ({pct(r.relative, 2)} of {r.b}; {r.verdict}; {r.pairing})."
        )
    for r in efficiency.itertuples() if len(efficiency) else []:
        out.append(
            f"{r.regime}: {r.va_gain_per_budget:.2f} [{r.low:.2f}, {r.high:.2f}] value added per "
            f"unit of budget against no policy ({r.pairing})."
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


# ---- 2 decomposition ------------------------------------------------------------------------
def analyse_decomposition(results: ExperimentResults) -> Section:
    ok = results.ok
    section = Section(
        "decomposition",
        "2. Decomposition",
        "Which ingredient of bottom-up carries how much of its difference from top-down? From "
        "top-down, switch one on; from bottom-up, switch one off.",
        _design_text(results),
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
                            "difference in index",
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


# ---- 3 where top-down works -----------------------------------------------------------------
def analyse_where(results: ExperimentResults) -> Section:
    ok = results.ok
    pq, vol, k = "policy.planning_quality", "market.volatility", "policy.selected_clusters"
    section = Section(
        "where_top_down_works",
        "3. Where top-down works",
        "Across planning quality, market volatility and the number of designated clusters: where "
        "does top-down beat, tie or lose to bottom-up and demand-driven?",
        _design_text(results),
        facts=results.facts(),
    )
    rows = []
    td = ok[ok["scenario"] == "top_down"]
    for (q, v, n), cell in td.groupby([pq, vol, k]):
        bu = ok[(ok["scenario"] == "bottom_up") & (ok[vol] == v)]  # bottom-up ignores q and n
        dd = ok[(ok["scenario"] == "demand_driven") & (ok[pq] == q) & (ok[vol] == v) & (ok[k] == n)]
        for other, frame in (("bottom_up", bu), ("demand_driven", dd)):
            ci = compare(cell, frame, HEADLINE)
            rows.append(
                {
                    pq: q,
                    vol: v,
                    k: n,
                    "against": other,
                    "estimate": ci.estimate,
                    "low": ci.low,
                    "high": ci.high,
                    "verdict": verdict(ci),
                    "pairing": ci.pairing,
                    "n_top_down": len(cell),
                    "n_other": len(frame),
                }
            )
    table = pd.DataFrame(rows)
    section.summaries["where_top_down_works"] = table
    if table.empty:
        return section
    table["label"] = [
        f"{v}<br>{100 * e:+.1f}%" for v, e in zip(table["verdict"], table["estimate"], strict=True)
    ]
    table["pct"] = 100 * table["estimate"]
    for other in ("bottom_up", "demand_driven"):
        part = table[table["against"] == other]
        section.figures.append(
            (
                f"where_vs_{other}",
                figures.heatmaps(
                    part,
                    vol,
                    pq,
                    "pct",
                    "label",
                    k,
                    f"Top-down minus {other}: value added index (points of starting VA; "
                    "verdict from the 95% CI)",
                    "%",
                ),
            )
        )
    pooled = []
    for factor in (pq, vol, k):
        for level in sorted(ok[factor].unique()):
            at = ok[ok[factor] == level]
            td_runs = at[at["scenario"] == "top_down"]
            for other in ("bottom_up", "demand_driven"):
                ci = compare(td_runs, at[at["scenario"] == other], HEADLINE)
                pooled.append(
                    {
                        "factor": factor,
                        "level": level,
                        "against": other,
                        "estimate": ci.estimate,
                        "low": ci.low,
                        "high": ci.high,
                        "verdict": verdict(ci),
                        "pairing": ci.pairing,
                        "n_top_down": len(td_runs),
                    }
                )
    pooled = pd.DataFrame(pooled)
    section.summaries["where_top_down_works_pooled"] = pooled
    section.tables.append(
        (
            "Top-down minus the other regime, pooled over the other two factors, by factor level "
            "[95% CI]",
            pooled.round(4),
        )
    )
    counts = table.groupby(["against", "verdict"]).size().unstack(fill_value=0)
    section.tables.append(("Cells where top-down beats / ties / loses", counts))
    reading = []
    for other in ("bottom_up", "demand_driven"):
        part = table[table["against"] == other]
        c = part["verdict"].value_counts()
        reading.append(
            f"Top-down vs {other}: beats in {c.get('beats', 0)}, ties in {c.get('ties', 0)}, "
            f"loses in {c.get('loses', 0)} of {len(part)} cells."
        )
        best = part.sort_values("estimate", ascending=False).iloc[0]
        worst = part.sort_values("estimate").iloc[0]
        reading.append(
            f"  Best cell for top-down vs {other}: planning quality {best[pq]}, volatility "
            f"{best[vol]}, {int(best[k])} designated: {pct(best['estimate'])} "
            f"[{pct(best['low'])}, {pct(best['high'])}]. Worst: planning quality {worst[pq]}, "
            f"volatility {worst[vol]}, {int(worst[k])} designated: {pct(worst['estimate'])}."
        )
    for (factor, other), g in pooled.groupby(["factor", "against"], sort=False):
        reading.append(
            f"Pooled top-down minus {other} by {factor}: "
            + ", ".join(
                f"{r.level}: {pct(r.estimate)} [{pct(r.low)}, {pct(r.high)}] ({r.verdict})"
                for r in g.itertuples()
            )
            + "."
        )
    td_only = ok[ok["scenario"] == "top_down"]
    levels = sorted(td_only[pq].unique())
    if len(levels) >= 2:
        ci = compare(
            td_only[td_only[pq] == levels[-1]], td_only[td_only[pq] == levels[0]], HEADLINE
        )
        reading.append(
            f"Top-down alone, planning quality {levels[-1]} minus {levels[0]} (pooled over the "
            f"other factors): {ci_pct(ci)} ({verdict(ci)}; {ci.pairing})."
        )
    expected = 0.05 * len(table)
    reading.append(
        f"With {len(table)} cells tested at the 95% level, about {expected:.1f} resolved cells "
        "are expected from noise alone even if nothing differs; read the map for consistent "
        "regions, not single cells."
    )
    reading.append(
        "Bottom-up does not use planning quality or the designated count, so each volatility "
        "level pools its runs across those factors; cells hold few top-down seeds, so 'ties' "
        "often means 'not resolved at this size'. With common seeds a pooled group is averaged per "
        "seed before pairing, so the seed, not the run, is the unit resampled. "
        + pairing_note(results)
    )
    section.reading = reading
    return section


# ---- 4 resilience ---------------------------------------------------------------------------
def shock_parameter(value: Any, key: str = "size") -> float:
    """The first shock's ``key`` from the outcomes table's text rendering of ``market.shocks``."""
    shocks = ast.literal_eval(value) if isinstance(value, str) else value
    return float(shocks[0][key])


def analyse_resilience(results: ExperimentResults) -> Section:
    ok = results.ok.copy()
    section = Section(
        "resilience",
        "4. Resilience",
        "After an export demand shock of 30-85%: how deep is the fall, how long the recovery, how "
        "many firms exit, per regime; and does vertical and horizontal linkage explain it?",
        _design_text(results),
        facts=results.facts(),
    )
    ok["shock_size"] = ok["market.shocks"].map(shock_parameter)
    shock_step = int(shock_parameter(ok["market.shocks"].iloc[0], "step"))
    order = _order(ok["scenario"], REGIMES)
    rows = []
    for (name, size), g in ok.groupby(["scenario", "shock_size"]):
        depth = bootstrap_mean(g["shock_depth"])
        exits = bootstrap_mean(g["shock_exits"])
        recovered = g["recovery_quarters"].dropna()
        rows.append(
            {
                "scenario": name,
                "shock_size": size,
                "depth": depth.estimate,
                "depth_low": depth.low,
                "depth_high": depth.high,
                "exits": exits.estimate,
                "exits_low": exits.low,
                "exits_high": exits.high,
                "recovery_quarters_median": recovered.median() if len(recovered) else np.nan,
                "share_not_recovered": 1 - len(recovered) / len(g),
                "n": len(g),
            }
        )
    table = pd.DataFrame(rows)
    table["order"] = table["scenario"].map({n: i for i, n in enumerate(order)})
    table = table.sort_values(["shock_size", "order"]).drop(columns="order").reset_index(drop=True)
    section.summaries["resilience"] = table
    section.tables.append(
        (
            "Depth of the fall in sales, exits in the 8 quarters after the shock [95% CI], "
            "recovery to 90% of the pre-shock level (median over recovered runs; share not "
            "recovered by the end)",
            table.round(4),
        )
    )
    bars = table.rename(columns={"depth": "estimate", "depth_low": "low", "depth_high": "high"})
    section.figures.append(
        (
            "resilience_depth",
            figures.grouped_bars(
                bars, "shock_size", "scenario", "Depth of the fall in sales (95% CI)", "depth"
            ),
        )
    )
    steps = results.steps
    linkage = pd.DataFrame()
    if steps is not None:
        steps = steps.merge(
            ok[["point", "replicate", "shock_size"]], on=["point", "replicate"], how="inner"
        )
        pre = steps[(steps["step"] >= shock_step - 4) & (steps["step"] < shock_step)]
        level = pre.groupby(["point", "replicate"])["sales"].mean().rename("pre_sales")
        steps = steps.join(level, on=["point", "replicate"])
        steps["sales_rel"] = steps["sales"] / steps["pre_sales"]
        section.figures.append(
            (
                "resilience_paths",
                figures.trajectories(
                    steps,
                    "step",
                    "sales_rel",
                    "scenario",
                    f"Sales relative to the 4 quarters before the shock (quarter {shock_step})",
                    "sales / pre-shock",
                    facet="shock_size",
                ),
            )
        )
        before = pre.groupby(["point", "replicate"])[
            ["vertical_linkage", "horizontal_density", "joint_action"]
        ].mean()
        ok = ok.drop(columns=[c for c in before.columns if c in ok.columns])
        window = steps[(steps["step"] >= shock_step - 8) & (steps["step"] < shock_step)]
        base_exits = window.groupby(["point", "replicate"])["exits"].sum().rename("exits_before")
        linkage = ok.join(before, on=["point", "replicate"]).join(
            base_exits, on=["point", "replicate"]
        )
        linkage["excess_exits"] = linkage["shock_exits"] - linkage["exits_before"]
    contrasts = resilience_contrasts(ok, order)
    if len(contrasts):
        section.summaries["resilience_contrasts"] = contrasts
        section.tables.append(
            (
                "Each regime minus no policy at the same shock size: depth of the fall, exits in "
                "the 8 quarters after, value added index [95% CI]; verdict: higher or lower than "
                "no policy, or ties (not resolved)",
                contrasts.round(4),
            )
        )
    reading = []
    for size, g in table.groupby("shock_size"):
        parts = ", ".join(
            f"{r.scenario} {r.depth:.3f} [{r.depth_low:.3f}, {r.depth_high:.3f}]"
            for r in g.itertuples()
        )
        reading.append(f"Shock {size:.0%}: depth of the fall in total sales: {parts}.")
        parts = ", ".join(
            f"{r.scenario} {r.exits:.0f}, {r.share_not_recovered:.0%} not recovered"
            for r in g.itertuples()
        )
        reading.append(f"  exits in the 8 quarters after: {parts}.")
    if len(linkage):
        coef = linkage_regression(linkage)
        section.summaries["resilience_linkage"] = coef
        section.tables.append(
            (
                "Depth of the fall regressed on pre-shock linkage (standardised coefficients, "
                "bootstrap 95% CI over runs); model B adds regime dummies",
                coef.round(4),
            )
        )
        for r in coef[coef["term"].isin(["vertical_linkage", "horizontal_density"])].itertuples():
            reading.append(
                f"Model {r.model}: one sd more {r.term} before the shock goes with "
                f"{r.estimate:+.4f} [{r.low:+.4f}, {r.high:+.4f}] in depth "
                f"({'shallower' if r.high < 0 else 'deeper' if r.low > 0 else 'no clear'} fall)."
            )
        # per seed first: under common seeds a seed's runs share a world (no-op otherwise)
        ex = bootstrap_mean(seed_means(linkage, "excess_exits"))
        reading.append(
            f"Exits in the 8 quarters after the shock minus the 8 before: {ex.estimate:.1f} "
            f"[{ex.low:.1f}, {ex.high:.1f}] per run (all regimes and sizes)."
        )
    for r in contrasts.itertuples() if len(contrasts) else []:
        if r.outcome == "shock_depth" and r.verdict != "ties":
            reading.append(
                f"Shock {r.shock_size:.0%}, {r.scenario} minus no policy, depth: {r.estimate:+.4f} "
                f"[{r.low:+.4f}, {r.high:+.4f}] ({r.pairing})."
            )
    resolved = contrasts[(contrasts["verdict"] != "ties")] if len(contrasts) else contrasts
    reading.append(
        f"Against no policy at the same shock size, {len(resolved)} of {len(contrasts)} contrasts "
        "(depth, exits, index) are resolved; see the table."
    )
    reading.append(pairing_note(results))
    section.reading = reading
    return section


def resilience_contrasts(ok: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Each policy regime minus no policy, per shock size (paired by seed when seeds are shared)."""
    rows = []
    if "no_policy" not in order:
        return pd.DataFrame(rows)
    for size, at in ok.groupby("shock_size"):
        base = at[at["scenario"] == "no_policy"]
        for name in order:
            if name == "no_policy":
                continue
            part = at[at["scenario"] == name]
            for outcome in ("shock_depth", "shock_exits", HEADLINE):
                if outcome not in at:
                    continue
                ci = compare(part, base, outcome)
                direction = {"beats": "higher", "loses": "lower"}.get(verdict(ci), verdict(ci))
                rows.append(
                    {
                        "shock_size": size,
                        "scenario": name,
                        "outcome": outcome,
                        "estimate": ci.estimate,
                        "low": ci.low,
                        "high": ci.high,
                        "verdict": direction,
                        "pairing": ci.pairing,
                    }
                )
    return pd.DataFrame(rows)


def linkage_regression(frame: pd.DataFrame, resamples: int = 500) -> pd.DataFrame:
    """OLS of shock depth on shock size and standardised pre-shock linkage (A), plus regimes (B).

    The bootstrap resamples seeds, not runs, when runs share seeds (common random numbers): runs
    on one seed share a world, so they are not independent observations.
    """
    data = frame.dropna(subset=["shock_depth", "vertical_linkage", "horizontal_density"])
    terms = ["shock_size", "vertical_linkage", "horizontal_density"]
    z = data[terms].apply(lambda s: (s - s.mean()) / s.std() if s.std() > 0 else s * 0)
    regimes = [r for r in REGIMES[1:] if r in set(data["scenario"])]
    dummies = pd.DataFrame(
        {r: (data["scenario"] == r).astype(float) for r in regimes}, index=data.index
    )
    y = data["shock_depth"].to_numpy()
    rng = np.random.default_rng(7)
    clusters = None
    if "seed" in data:
        codes, uniques = pd.factorize(data["seed"])
        if len(uniques) < len(data):  # seeds shared between runs: resample seeds
            clusters = [np.flatnonzero(codes == c) for c in range(len(uniques))]
    rows = []
    for model, x in (("A", z), ("B", pd.concat([z, dummies], axis=1))):
        design = np.column_stack([np.ones(len(x)), x.to_numpy()])
        names = ["intercept", *x.columns]
        beta = np.linalg.lstsq(design, y, rcond=None)[0]
        boots = []
        for _ in range(resamples):
            if clusters is None:
                idx = rng.integers(0, len(y), len(y))
            else:
                pick = rng.integers(0, len(clusters), len(clusters))
                idx = np.concatenate([clusters[i] for i in pick])
            boots.append(np.linalg.lstsq(design[idx], y[idx], rcond=None)[0])
        boots = np.array(boots)
        for j, name in enumerate(names):
            if name == "intercept":
                continue
            lo, hi = np.quantile(boots[:, j], [0.025, 0.975])
            rows.append({"model": model, "term": name, "estimate": beta[j], "low": lo, "high": hi})
    return pd.DataFrame(rows)


# ---- 5 sensitivity --------------------------------------------------------------------------
def _problem_and_outputs(results: ExperimentResults):
    from sim.runner.design import unit_samples
    from sim.runner.experiment import Experiment

    settings = dict(results.manifest["experiment"]["settings"])
    experiment = Experiment.model_validate(settings)
    factors = list(experiment.vary)
    seed = experiment.design.seed if experiment.design.seed is not None else experiment.master_seed
    unit = unit_samples(experiment.design, len(factors), seed)
    points = len(unit)
    ok = results.outcomes
    means = ok.groupby("point")[HEADLINE].mean()
    scenarios = ok.groupby("point")["scenario"].first()
    outputs: dict[str, np.ndarray] = {}
    for b, name in enumerate(dict.fromkeys(scenarios.sort_index())):
        outputs[name] = means.reindex(range(b * points, (b + 1) * points)).to_numpy()
    if "top_down" in outputs and "bottom_up" in outputs:
        outputs["bottom_up - top_down"] = outputs["bottom_up"] - outputs["top_down"]
    problem = {
        "num_vars": len(factors),
        "names": [f.split(".")[-1] for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
    return experiment, problem, unit, outputs


def analyse_morris(results: ExperimentResults) -> Section:
    from SALib.analyze import morris

    section = Section(
        "sensitivity_morris",
        "5a. Sensitivity: Morris screening",
        "Which uncertain parameters move the headline outcome (value added index) and the "
        "bottom-up minus top-down gap?",
        _design_text(results),
        facts=results.facts(),
    )
    experiment, problem, unit, outputs = _problem_and_outputs(results)
    rows = []
    for outcome, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        res = morris.analyze(
            problem, unit, y, num_levels=experiment.design.levels, seed=1, print_to_console=False
        )
        scale = 1.0  # the index is already relative to each run's start
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": name,
                    "mu_star": res["mu_star"][i] / scale,
                    "mu_star_conf": res["mu_star_conf"][i] / scale,
                    "sigma": res["sigma"][i] / scale,
                    "sigma_conf": 0.0,
                    "mu": res["mu"][i] / scale,
                }
            )
    table = pd.DataFrame(rows)
    section.summaries["sensitivity_morris"] = table
    if table.empty:
        return section
    section.tables.append(
        (
            "Morris indices of the value added index (mu*: mean absolute "
            "elementary effect over the full range; sigma: its spread, non-linearity/interaction)",
            table.round(4),
        )
    )
    section.figures.append(
        (
            "morris",
            figures.sensitivity_bars(
                table,
                "Morris mu* (with 95% CI) and sigma",
                ["mu_star", "sigma"],
            ),
        )
    )
    reading = []
    for outcome, g in table.groupby("outcome", sort=False):
        top = g.sort_values("mu_star", ascending=False).head(4)
        reading.append(
            f"{outcome}: largest mu* "
            + ", ".join(f"{r.factor} ({r.mu_star:.3f}, mu {r.mu:+.3f})" for r in top.itertuples())
            + "."
        )
    reps = results.manifest.get("design", {}).get("replicates", 1)
    reading.append(
        "mu* is in index points per full factor range; the sign of mu tells the direction. "
        f"{reps} seed(s) averaged per point: run-to-run noise that survives the averaging "
        "inflates sigma and puts a floor under every mu*, so only factors well above that floor "
        "(and with |mu| close to mu*) are distinguishable from noise."
    )
    section.reading = reading
    return section


def analyse_sobol(results: ExperimentResults) -> Section:
    from SALib.analyze import sobol

    section = Section(
        "sensitivity_sobol",
        "5b. Sensitivity: Sobol indices",
        "How much of the variance of the headline outcome and of the bottom-up minus top-down gap "
        "does each of the few parameters that matter explain, alone (S1) and with interactions "
        "(ST)?",
        _design_text(results),
        facts=results.facts(),
    )
    experiment, problem, _, outputs = _problem_and_outputs(results)
    rows = []
    for outcome, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        res = sobol.analyze(
            problem,
            y,
            calc_second_order=experiment.design.calc_second_order,
            seed=1,
            print_to_console=False,
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": name,
                    "S1": res["S1"][i],
                    "S1_conf": res["S1_conf"][i],
                    "ST": res["ST"][i],
                    "ST_conf": res["ST_conf"][i],
                }
            )
    table = pd.DataFrame(rows)
    section.summaries["sensitivity_sobol"] = table
    if table.empty:
        return section
    section.tables.append(("Sobol indices with 95% confidence half-widths", table.round(4)))
    section.figures.append(
        ("sobol", figures.sensitivity_bars(table, "Sobol S1 and ST (95% CI)", ["S1", "ST"]))
    )
    reading = []
    for outcome, g in table.groupby("outcome", sort=False):
        top = g.sort_values("ST", ascending=False)
        reading.append(
            f"{outcome}: "
            + ", ".join(
                f"{r.factor} S1 {r.S1:.2f}±{r.S1_conf:.2f}, ST {r.ST:.2f}±{r.ST_conf:.2f}"
                for r in top.itertuples()
            )
            + f"; sum of S1 = {g['S1'].sum():.2f} (the rest: interactions, other factors held "
            "fixed, and seed noise)."
        )
    section.reading = reading
    return section


# ---- 6 indonesia ----------------------------------------------------------------------------
def indonesia_regime(name: str) -> str:
    return "top_down" if name == "indonesia" else name.removeprefix("indonesia_")


def analyse_indonesia(results: ExperimentResults) -> Section:
    ok = results.ok.copy()
    ok["regime"] = ok["scenario"].map(indonesia_regime)
    order = _order(ok["regime"], REGIMES)
    section = Section(
        "indonesia",
        "6. Indonesia",
        "In a stylized Indonesian world (25 designated clusters, Jepara furniture, Cirebon rattan, "
        "the 2005 rattan export shock): how do designated and other clusters fare under the "
        "historical top-down programme, and how would the same world fare under the alternatives?",
        _design_text(results),
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
    wide = intervals.assign(
        value=[
            f"{m:.4g} [{lo:.4g}, {hi:.4g}]"
            for m, lo, hi in zip(
                intervals["mean"], intervals["low"], intervals["high"], strict=True
            )
        ]
    ).pivot(index="outcome", columns="scenario", values="value")
    wide = wide[[c for c in order if c in wide.columns]]
    section.tables.append(("Mean [95% CI] per regime", wide))
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
        reading.append(
            "Whole-world value added index: "
            + " > ".join(f"{r.scenario} ({ci_pct_row(r)})" for r in head.itertuples())
            + "."
        )
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


ANALYSES = {
    "regimes": analyse_regimes,
    "decomposition": analyse_decomposition,
    "where_top_down_works": analyse_where,
    "resilience": analyse_resilience,
    "sensitivity_morris": analyse_morris,
    "sensitivity_sobol": analyse_sobol,
    "indonesia": analyse_indonesia,
}
