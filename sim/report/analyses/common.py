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
from sim.report.statistics import TOO_FEW, bootstrap_mean, cohens_d, compare, paired_d, verdict
from sim.runner.numbers import MIN_SEEDS, interval
from sim.runner.tables import heading
from sim.scenario.presets import PRESETS

HEADLINE = "va_index"  # see sim.report.results.add_headline
HEADLINE_LABEL = "value added index (ratio: run mean / policy start - 1)"
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


def _too_few(ci) -> bool:
    return getattr(ci, "verdict", "") == TOO_FEW or getattr(ci, "n", MIN_SEEDS) < MIN_SEEDS


def ci_pct(ci) -> str:
    """An interval (estimate, low, high) in percent: "+1.0% [+0.2%, +1.8%]"; the estimate alone
    when too few seeds stand behind it."""
    if _too_few(ci):
        return f"{pct(ci.estimate)} ({TOO_FEW} for an interval)"
    return f"{pct(ci.estimate)} [{pct(ci.low)}, {pct(ci.high)}]"


def ci_pct_row(r) -> str:
    """A ``scenario_intervals`` row (mean, low, high, n) in percent."""
    if _too_few(r):
        return f"{pct(r.mean)} (n={r.n})"
    return f"{pct(r.mean)} [{pct(r.low)}, {pct(r.high)}]"


def pair_verdict(effects: pd.DataFrame, x: str, y: str) -> str:
    """The verdict of x against y in a ``regime_effects`` table (either direction)."""
    for a, b, flip in ((x, y, False), (y, x, True)):
        row = effects[(effects["a"] == a) & (effects["b"] == b)]
        if len(row):
            found = str(row["verdict"].iloc[0])
            return {"beats": "loses", "loses": "beats"}.get(found, found) if flip else found
    return "n/a"


def ranking(ranked: list[tuple[str, str]], effects: pd.DataFrame) -> str:
    """Scenarios in order of their means, joined by ">" only where the pair's verdict says so
    and by "≈" where it is a tie (or undecided): a summary never ranks what the contrasts do
    not resolve. ``ranked`` holds (scenario, its formatted mean), best first."""
    if not ranked:
        return ""
    text = f"{ranked[0][0]} ({ranked[0][1]})"
    for (prev, _), (name, shown) in zip(ranked, ranked[1:], strict=False):
        sign = ">" if pair_verdict(effects, prev, name) == "beats" else "≈"
        text += f" {sign} {name} ({shown})"
    names = [name for name, _ in ranked]
    steps = [pair_verdict(effects, a, b) == "beats" for a, b in zip(names, names[1:], strict=False)]
    resolved = [
        f"{x} > {names[j]}"
        for i, x in enumerate(names)
        for j in range(i + 2, len(names))
        if not all(steps[i:j]) and pair_verdict(effects, x, names[j]) == "beats"
    ]
    if all(steps):
        return text
    note = "'≈': the pair's 95% interval includes zero (a tie) or too few seeds"
    if resolved:
        note += f"; resolved across ties: {', '.join(resolved)}"
    return f"{text} ({note})"


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
    """``scenario_intervals`` as outcome (with its unit) x scenario cells, "mean [low, high]"
    with readable numbers; the mean alone and its n when too few seeds."""
    cells = intervals.assign(
        value=[
            interval(m, lo, hi, int(n))
            for m, lo, hi, n in zip(
                intervals["mean"], intervals["low"], intervals["high"], intervals["n"], strict=True
            )
        ]
    ).pivot(index="outcome", columns="scenario", values="value")
    return cells


def with_units(table: pd.DataFrame) -> pd.DataFrame:
    """A table indexed by outcome names, re-indexed by their headings with units."""
    table = table.copy()
    table.index = [
        HEADLINE_LABEL if name == HEADLINE else heading(str(name)) for name in table.index
    ]
    table.index.name = "outcome (unit)"
    return table
