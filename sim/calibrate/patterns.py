"""The stylized facts and the Indonesian record as statistics: numbers a target can bound.

Each statistic is a pure function from a list of per-seed records (what ``measure`` collects
from the runs of one seed) to one number. Pooling over seeds happens inside the statistic, the
same way whether a calibration evaluates a parameter set on a few seeds or ``validate-patterns``
checks the calibrated default on 32+: a percentile of pooled firms, a mean over seeds, or a
feature of the seed-mean series (a crisis peak of a mean difference, not a mean of noisy peaks).
Intervals come from resampling seeds (``bootstrap_interval``), so every statistic gets one.

Targets (the numbers the model should reproduce, each with a tolerance and its source) live in
the calibration file (``calibration/default.yaml``), never here, and never come from model output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario.codes import DOWNSTREAM

SMALL = 20  # workers: the brief's small-firm threshold
Record = dict[str, Any]  # one seed's measurements (see sim.calibrate.measure)


@dataclass(frozen=True)
class Statistic:
    """A named number measured on simulated data, and the runs it needs."""

    name: str
    fact: str  # the stylized fact or historical figure it measures
    meaning: str  # how it is measured, in one sentence
    needs: str  # the group of runs it reads (sim.calibrate.measure.RUN_GROUPS)
    compute: Callable[[Sequence[Record]], float]


def skewness(values) -> float:
    x = np.asarray(values, dtype=float)
    sd = x.std()
    return float(((x - x.mean()) ** 3).mean() / sd**3) if sd > 0 else 0.0


def _pooled(records: Sequence[Record], key: str) -> np.ndarray:
    return np.concatenate([np.asarray(r[key], dtype=float) for r in records])


def _mean(records: Sequence[Record], key: str) -> float:
    values = np.array([r[key] for r in records], dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


# ---- fact 1: firm sizes ----------------------------------------------------------------------
def small_firm_share(records: Sequence[Record]) -> float:
    return float((_pooled(records, "workers") < SMALL).mean())


def firm_size_skewness(records: Sequence[Record]) -> float:
    return skewness(_pooled(records, "workers"))


# ---- fact 2: cluster sizes -------------------------------------------------------------------
def cluster_size_skewness(records: Sequence[Record]) -> float:
    return skewness(_pooled(records, "cluster_size"))


def dormant_cluster_share(records: Sequence[Record]) -> float:
    return float((_pooled(records, "cluster_type") == 0).mean())


def export_cluster_share(records: Sequence[Record]) -> float:
    return float((_pooled(records, "cluster_export_share") >= 0.25).mean())


def export_cluster_size_ratio(records: Sequence[Record]) -> float:
    """Median size of export clusters (export share >= 25%) over the median cluster size."""
    sizes = _pooled(records, "cluster_size")
    exporters = _pooled(records, "cluster_export_share") >= 0.25
    if not exporters.any() or np.median(sizes) <= 0:
        return 0.0
    return float(np.median(sizes[exporters]) / np.median(sizes))


# ---- fact 3: small producers' share of value added -------------------------------------------
def small_producer_va_share(records: Sequence[Record]) -> float:
    return _mean(records, "small_producer_va_share")


# ---- fact 4: take-up and employment effect ---------------------------------------------------
def takeup_rate(records: Sequence[Record]) -> float:
    return _mean(records, "takeup_rate")


def employment_effect(records: Sequence[Record]) -> float:
    return _mean(records, "employment_effect")


# ---- fact 5: joint action in a crisis --------------------------------------------------------
def _crisis(records: Sequence[Record]) -> tuple[float, float, float]:
    """Peak rise within 8 quarters of the shock, last-year rise, pre-shock level (seed means)."""
    diff = np.mean([np.asarray(r["joint_action_diff"], dtype=float) for r in records], axis=0)
    shock = int(records[0]["crisis_step"])
    after = diff[shock : shock + 8]
    peak = float(after.max()) if after.size else 0.0
    return peak, float(diff[-4:].mean()), _mean(records, "joint_action_pre")


def joint_action_crisis_rise(records: Sequence[Record]) -> float:
    """Peak rise of joint action after a 50% export shock, relative to its pre-shock level."""
    peak, _, pre = _crisis(records)
    return peak / max(pre, 1e-3)


def joint_action_fade(records: Sequence[Record]) -> float:
    """Last-year rise over the peak rise: below 1/2 when joint action fades (1 if it never rose)."""
    peak, late, _ = _crisis(records)
    return late / peak if peak > 0 else 1.0


# ---- fact 6: export shocks -------------------------------------------------------------------
def export_firm_loss(size: str) -> Callable[[Sequence[Record]], float]:
    """Firms the export clusters lost to a shock, pooled over seeds (a sum over a sum: seeds with
    few exporters weigh little)."""

    def compute(records: Sequence[Record]) -> float:
        weight = np.array([float(r["export_cluster_firms"]) for r in records])
        loss = np.array([float(r[f"export_firm_loss_{size}"]) for r in records])
        keep = weight > 0
        if not keep.any():
            return float("nan")
        return float((loss[keep] * weight[keep]).sum() / weight[keep].sum())

    return compute


def recovery_quarters(size: str) -> Callable[[Sequence[Record]], float]:
    """Median quarters to regain 90% of pre-shock sales; a run that never does counts as the
    quarters it had left (censored), so the statistic is a lower bound then."""

    def compute(records: Sequence[Record]) -> float:
        values = [
            r[f"recovery_{size}"] if np.isfinite(r[f"recovery_{size}"]) else r["quarters_left"]
            for r in records
        ]
        return float(np.median(values))

    return compute


# ---- fact 7: heterogeneity and gatekeepers ---------------------------------------------------
def productivity_p90_p10(records: Sequence[Record]) -> float:
    p10, p90 = np.quantile(_pooled(records, "productivity"), [0.1, 0.9])
    return float(p90 / p10) if p10 > 0 else float("inf")


def trader_va_leverage(records: Sequence[Record]) -> float:
    """Traders' share of value added over their share of firms."""
    stage = _pooled(records, "stage")
    va = _pooled(records, "firm_value_added")
    traders = stage == DOWNSTREAM
    total = float(va.sum())
    if total <= 0 or not traders.any():
        return 0.0
    return float(va[traders].sum() / total / traders.mean())


# ---- the Indonesian record -------------------------------------------------------------------
def cirebon_firms_after_year(records: Sequence[Record]) -> float:
    return _mean(records, "cirebon_firms_after_year")


def cirebon_export_trough(records: Sequence[Record]) -> float:
    """Pooled over seeds (a sum over a sum): a seed where Cirebon exported little before the
    shock would make its own ratio explode."""
    before = sum(float(r["cirebon_exports_before"]) for r in records)
    trough = sum(float(r["cirebon_exports_trough"]) for r in records)
    return trough / before if before > 0 else float("nan")


def jepara_firm_change(records: Sequence[Record]) -> float:
    return _mean(records, "jepara_firm_change")


def _s(name: str, fact: str, meaning: str, needs: str, compute) -> Statistic:
    return Statistic(name, fact, meaning, needs, compute)


F1 = "1. Right-skewed firm sizes: most firms have fewer than 20 workers."
F2 = "2. Right-skewed cluster sizes: many dormant clusters, a few large export clusters."
F3 = "3. Small producers capture a small share of value added (Jepara: ~3.6%)."
F4 = "4. Low take-up; little employment effect in non-dynamic clusters under top-down."
F5 = "5. Joint action rises in crises and fades afterwards."
F6 = "6. Export shocks of 30-85% cause exit and slow recovery."
F7 = "7. Heterogeneous firms; leading firms and traders act as gatekeepers."
CIREBON = "Cirebon rattan after raw-rattan exports were freed (mid-2005)."
JEPARA = "Jepara furniture enterprises 2005 -> 2010."

STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        _s("small_firm_share", F1, "share of firms with < 20 workers at policy start", "world",
           small_firm_share),
        _s("firm_size_skewness", F1, "skewness of workers per firm at policy start", "world",
           firm_size_skewness),
        _s("cluster_size_skewness", F2, "skewness of firms per cluster at policy start", "world",
           cluster_size_skewness),
        _s("dormant_cluster_share", F2, "share of clusters typed dormant at policy start",
           "world", dormant_cluster_share),
        _s("export_cluster_share", F2, "share of clusters with export share >= 25% at policy "
           "start", "world", export_cluster_share),
        _s("export_cluster_size_ratio", F2, "median size of export clusters / median cluster "
           "size, at policy start", "world", export_cluster_size_ratio),
        _s("small_producer_va_share", F3, "value added of producers with < 20 workers / all "
           "value added, last year, no policy", "world", small_producer_va_share),
        _s("takeup_rate", F4, "top-down programme take-up (firm-instrument pairs)", "top_down",
           takeup_rate),
        _s("employment_effect", F4, "employment growth of designated clusters not dynamic at "
           "the start, top-down minus no policy on the same seed", "top_down",
           employment_effect),
        _s("joint_action_crisis_rise", F5, "peak rise of joint action within 8 quarters of a 50% "
           "export shock (same seed without shock subtracted) / pre-shock level", "crisis",
           joint_action_crisis_rise),
        _s("joint_action_fade", F5, "last-year rise of joint action / its peak rise", "crisis",
           joint_action_fade),
        _s("export_firm_loss_30", F6, "firms the export clusters (export share >= 25% over "
           "the year before) have 8 quarters after a 30% export shock, fewer than on the same "
           "seed without it, over their firms before the shock", "shocks",
           export_firm_loss("30")),
        _s("export_firm_loss_85", F6, "the same after an 85% export shock", "shocks",
           export_firm_loss("85")),
        _s("recovery_quarters_85", F6, "median quarters to regain 90% of pre-shock sales after an "
           "85% export shock (a run that never does counts as the quarters it had left)",
           "shocks", recovery_quarters("85")),
        _s("productivity_p90_p10", F7, "productivity p90 / p10 at policy start", "world",
           productivity_p90_p10),
        _s("trader_va_leverage", F7, "traders' share of value added / their share of firms, at "
           "policy start", "world", trader_va_leverage),
        _s("cirebon_firms_after_year", CIREBON, "Cirebon's firms a year after the 2005 shock / "
           "in the quarter before it (Indonesian scenario)", "indonesia",
           cirebon_firms_after_year),
        _s("cirebon_export_trough", CIREBON, "Cirebon's export sales in the two quarters after "
           "the shock (lower one) / their mean in the year before, summed over seeds", "indonesia",
           cirebon_export_trough),
        _s("jepara_firm_change", JEPARA, "Jepara's firms five years after mid-2005 / in mid-2005, "
           "minus one (Indonesian scenario)", "indonesia", jepara_firm_change),
    )
}  # fmt: skip


def bootstrap_interval(
    records: Sequence[Record],
    statistic: Statistic,
    level: float = 0.95,
    draws: int = 400,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of a statistic over seeds resampled with replacement.

    records: one record per seed
    level: coverage of the interval
    draws: bootstrap resamples
    seed: of the resampling (the interval is reproducible)
    """
    rng = np.random.default_rng(seed)
    n = len(records)
    values = []
    for _ in range(draws):
        sample = [records[i] for i in rng.integers(0, n, n)]
        values.append(statistic.compute(sample))
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)
