"""Experiment 4, resilience: after an export demand shock, how deep is the fall, how long the
recovery, how many firms exit, per regime; and does vertical and horizontal linkage explain it?

Shock outcomes per regime and shock size, contrasts against no policy, and a regression of the
depth of the fall on pre-shock linkage.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pandas as pd

from sim.report import figures
from sim.report.analyses.common import (
    HEADLINE,
    REGIMES,
    design_text,
    pairing_note,
    preferred_order,
)
from sim.report.results import ExperimentResults
from sim.report.section import Section
from sim.report.statistics import bootstrap_mean, compare, seed_means, verdict


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
        design_text(results),
        facts=results.facts(),
    )
    ok["shock_size"] = ok["market.shocks"].map(shock_parameter)
    shock_step = int(shock_parameter(ok["market.shocks"].iloc[0], "step"))
    order = preferred_order(ok["scenario"], REGIMES)
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
