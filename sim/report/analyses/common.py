"""What every experiment analysis shares: the headline outcome, the regimes, the pairing notes,
regime contrasts, per-scenario intervals and the formatting of percentages and intervals.

The readings are built from the computed intervals only (no sentence is written in advance), so a
result that goes against the article reads as such.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from sim.report.results import ExperimentResults
from sim.report.statistics import bootstrap_mean, cohens_d, compare, paired_d, verdict
from sim.scenario.presets import PRESETS

HEADLINE = "va_index"  # see sim.report.results.add_headline
HEADLINE_LABEL = "value added index (run mean / policy start - 1)"
REGIMES = list(PRESETS)
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


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a signed percentage, ``n/a`` when not finite."""
    return "n/a" if not np.isfinite(x) else f"{100 * x:+.{digits}f}%"


def ci_pct(ci) -> str:
    """An interval (estimate, low, high) in percent: "+1.0% [+0.2%, +1.8%]"."""
    return f"{pct(ci.estimate)} [{pct(ci.low)}, {pct(ci.high)}]"


def ci_pct_row(r) -> str:
    """A ``scenario_intervals`` row (mean, low, high) in percent."""
    return f"{pct(r.mean)} [{pct(r.low)}, {pct(r.high)}]"


def design_text(results: ExperimentResults) -> str:
    """The experiment's design, as the section's header states it."""
    return results.facts()["design"]


def preferred_order(names, preferred: list[str]) -> list[str]:
    """The distinct ``names`` present, those in ``preferred`` first and in its order."""
    present = list(pd.unique(pd.Series(names)))
    return [n for n in preferred if n in present] + [n for n in present if n not in preferred]


def scenario_intervals(ok: pd.DataFrame, columns: list[str], order: list[str]) -> pd.DataFrame:
    """Bootstrap mean and 95% interval of each outcome column, per scenario (long table)."""
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


def interval_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """``scenario_intervals`` as outcome x scenario cells reading "mean [low, high]"."""
    return intervals.assign(
        value=[
            f"{m:.4g} [{lo:.4g}, {hi:.4g}]"
            for m, lo, hi in zip(
                intervals["mean"], intervals["low"], intervals["high"], strict=True
            )
        ]
    ).pivot(index="outcome", columns="scenario", values="value")
