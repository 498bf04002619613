"""A run's summary read from arrays (``sim.model.metrics.summarise``) is the pandas reading it
replaced, to the bit: final-year means and totals with NaN and short runs, for every preset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.metrics import HEADLINE, SUMMARY_KEYS, resilience, summarise
from sim.scenario.codes import CLUSTER_TYPES
from sim.scenario.presets import PRESETS
from tests.conftest import small_model


def pandas_way(aggregate: pd.DataFrame, shocks: list[int]) -> dict[str, float]:
    """``summarise`` as it was, on pandas' reductions."""
    last_year = aggregate.tail(4)
    summary = {name: float(last_year[name].mean()) for name in HEADLINE}
    first = aggregate.iloc[0]
    summary["value_added_growth"] = float(
        last_year["value_added"].mean() / max(first["value_added"], 1e-12) - 1
    )
    summary["cumulative_value_added"] = float(aggregate["value_added"].iloc[1:].sum())
    summary["budget_spent"] = float(aggregate["budget_spent"].iloc[-1])
    summary["exits_total"] = float(aggregate["exits"].iloc[1:].sum())
    summary["entries_total"] = float(aggregate["entries"].iloc[1:].sum())
    for name in CLUSTER_TYPES:
        summary[f"clusters_{name}"] = float(aggregate[f"clusters_{name}"].iloc[-1])
    if shocks:
        summary.update(resilience(aggregate, shocks[0]))
    return {name: summary[name] for name in SUMMARY_KEYS if name in summary}


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return list(a) == list(b) and all(
        np.float64(a[k]).tobytes() == np.float64(b[k]).tobytes() for k in a
    )


@pytest.mark.parametrize("preset", PRESETS)
def test_summary_of_a_run_is_the_pandas_reading(preset: str) -> None:
    model = small_model(preset, market__shocks=[{"step": 3, "size": 0.4}])
    for _ in range(9):
        model.step()
    aggregate = model.history()
    for rows in (1, 2, 3, 4, 5, len(aggregate)):  # short runs too
        assert _same(summarise(aggregate.head(rows), [3]), pandas_way(aggregate.head(rows), [3]))
    assert _same(summarise(aggregate, []), pandas_way(aggregate, []))


def test_summary_with_missing_values_is_the_pandas_reading() -> None:
    model = small_model("bottom_up")
    for _ in range(8):
        model.step()
    aggregate = model.history()
    rng = np.random.default_rng(2)
    for trial in range(40):
        holed = aggregate.copy()
        for name in rng.choice(holed.columns[1:], size=12, replace=False):
            rows = rng.choice(len(holed), size=int(rng.integers(1, len(holed) + 1)), replace=False)
            holed.loc[rows, name] = np.nan
        if trial % 5 == 0:
            holed["value_added"] = -0.0  # signed zeros in a total
        assert _same(summarise(holed, []), pandas_way(holed, []))
