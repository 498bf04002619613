"""The check that a finished run's outcomes are numbers: a run producing NaN or infinities failed.

Bounds on every parameter keep the model in its range, but a combination of extreme values can
still push a quantity past what floating point holds. Such a run must not be recorded as a
success: its outcomes would silently poison every mean, table and figure built on it. The check
runs on the outcome record, after the model, so valid runs are untouched (bit for bit).

NaN is a value only where the outcome registry declares it possible: outcomes returned under a
condition (resilience after a shock, group outcomes) and those whose meaning says when they are
NaN (take-up before any offer). Infinity is never a value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.model.outcomes import lookup
from sim.scenario.errors import RunFailed


def may_be_nan(name: str) -> bool:
    """Whether the registry allows ``name`` (a summary key) to be NaN."""
    outcome = lookup(name, "summary")
    return outcome is not None and (bool(outcome.condition) or "NaN" in outcome.meaning)


def unusable_outcomes(summary: Mapping[str, Any], aggregate: pd.DataFrame | None = None) -> list:
    """``name=value`` of the outcomes that are not usable numbers, in the summary's order."""
    bad = []
    for name, value in summary.items():
        number = float(value)
        if math.isinf(number) or (math.isnan(number) and not may_be_nan(str(name))):
            bad.append(f"{name}={number}")
    if aggregate is not None:
        numbers = aggregate.select_dtypes(include="number")
        infinite = numbers.columns[np.isinf(numbers.to_numpy(dtype=float)).any(axis=0)]
        bad += [f"{column} (per step)=inf" for column in infinite]
    return bad


def check_finite(summary: Mapping[str, Any], aggregate: pd.DataFrame | None, what: str) -> None:
    """Raise ``RunFailed`` naming the unusable outcomes of the run ``what``."""
    bad = unusable_outcomes(summary, aggregate)
    if bad:
        shown = ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
        raise RunFailed(
            f"{what}: the run produced outcomes that are not finite numbers ({shown}); the "
            "parameters drive the model outside the range where its quantities stay finite"
        )
