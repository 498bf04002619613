"""Tables as a reader gets them: a column dictionary beside every table, codes written as their
labels, counts as whole numbers, seeds as text in CSV, the headline outcome and the policy
parameters in every run table.

Only what is written changes: the model's own results (``RunResult``, the arrays the fingerprint
covers) stay as computed. Each column's unit and meaning comes from the outcome registry
(``sim.model.outcomes``), the scenario schema (parameters) or ``RUNNER_COLUMNS`` (what the runner
adds: identifiers, the value added index, gains over no policy).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.model import outcomes as registry
from sim.scenario.codes import CLUSTER_TYPES, COORDINATOR_KINDS
from sim.scenario.schema import Scenario

DICTIONARY = "columns.csv"
DICTIONARY_COLUMNS = ("table", "name", "unit", "meaning", "level", "type")

VA_INDEX = "va_index"  # the headline outcome
VA_INDEX_MEANING = (
    "value added index: the run's mean quarterly value added (policy start to end) / its value "
    "added at policy start - 1; each run against its own start, so world-to-world differences "
    "in size drop out"
)
INDEX_UNIT = "ratio - 1 (0 = the run's own level at policy start)"


@dataclass(frozen=True)
class Column:
    """One entry of a table's dictionary."""

    name: str
    unit: str
    meaning: str
    level: str
    type: str = "real"


def _runner_columns() -> dict[str, Column]:
    gains = "wage units, cumulative since policy start"
    rows = [
        Column("scenario", "text", "scenario name (a preset or a scenario file)", "run", "text"),
        Column(
            "seed",
            "integer, as text",
            "the run's seed: with the scenario, it decides the run (written as text in CSV so "
            "a spreadsheet keeps all its digits)",
            "run",
            "text",
        ),
        Column(
            "point", "index", "design point (a scenario x parameter combination)", "run", "integer"
        ),
        Column("replicate", "index", "replicate of the design point (0-based)", "run", "integer"),
        Column("run", "text", "run key: the run's file under runs/", "run", "text"),
        Column("failed", "flag", "True when the run failed (see failures.jsonl)", "run", "flag"),
        Column(VA_INDEX, INDEX_UNIT, VA_INDEX_MEANING, "summary"),
        Column(
            "va_gain",
            gains,
            "cumulative value added minus that of the no-policy run with the same seed",
            "summary",
        ),
        Column(
            "va_gain_per_budget",
            "wage units of value added per wage unit of budget",
            "va_gain / budget spent (empty without a budget)",
            "summary",
        ),
        Column(
            "sales_from_outside",
            registry.MONEY,
            "final-year fall in outside competitors' sales against the no-policy run with the "
            "same seed: sales the model's firms took from them",
            "summary",
        ),
        Column(
            "sales_from_market_growth",
            registry.MONEY,
            "final-year rise in demand against the no-policy run with the same seed (0 under "
            "common random numbers)",
            "summary",
        ),
        Column("outcome", "text", "the outcome summarised (a runs.csv column)", "summary", "text"),
        Column("n", "runs", "runs with a value", "summary", "integer"),
        Column("mean", "the outcome's unit", "mean over seeds", "summary"),
        Column("ci_low", "the outcome's unit", "lower end of the 95% t-interval", "summary"),
        Column("ci_high", "the outcome's unit", "upper end of the 95% t-interval", "summary"),
    ]
    return {c.name: c for c in rows}


RUNNER_COLUMNS = _runner_columns()


def va_index(values: np.ndarray) -> float:
    """The value added index of one run from its value added in step order (NaN from 0)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or values[0] == 0:
        return math.nan
    return float(np.mean(values)) / float(values[0]) - 1


def add_va_index(runs: pd.DataFrame, steps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``runs`` with ``va_index`` from each run's ``value_added`` in ``steps`` (joined on keys)."""
    ordered = steps.sort_values([*keys, "step"], kind="stable")
    index = ordered.groupby(keys, sort=False)["value_added"].apply(lambda v: va_index(v.to_numpy()))
    return runs.join(index.rename(VA_INDEX), on=keys)


def run_summary(scenario: Scenario, seed: int, result: Any) -> pd.DataFrame:
    """One run as one row: scenario, seed, the value added index, the run's summary outcomes
    and its policy parameters (the row ``klaster compare`` writes per run)."""
    steps = result.aggregate.sort_values("step", kind="stable")
    row = {
        "scenario": scenario.name,
        "seed": seed,
        VA_INDEX: va_index(steps["value_added"].to_numpy()),
        **result.summary,
        **policy_parameters(scenario),
    }
    return pd.DataFrame([row])


# ---- parameters ---------------------------------------------------------------------------


def _scalar(value: Any) -> Any:
    """Lists (e.g. a vector of shares, a shock schedule) become text: one scalar per cell."""
    return repr(value) if isinstance(value, (list, dict, tuple)) else value


def policy_parameters(scenario: Scenario) -> dict[str, Any]:
    """The scenario's policy parameters, flattened to ``policy.x`` / ``policy.x.y`` columns."""
    flat: dict[str, Any] = {}

    def walk(data: dict[str, Any], prefix: str) -> None:
        for key, value in data.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = _scalar(value)

    walk(scenario.policy.model_dump(mode="json"), "policy.")
    return flat


def parameter_column(path: str) -> Column | None:
    """The schema's description of a dotted parameter (``policy.planning_quality``)."""
    model: type[BaseModel] = Scenario
    field = None
    for part in path.split("."):
        if field is not None:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            model = annotation
        field = model.model_fields.get(part)
        if field is None:
            return None
    annotation = field.annotation
    kind = {bool: "flag", int: "integer", float: "real"}.get(annotation, "text")
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    bounds = "" if low is None and high is None else f" (range {low} .. {high})"
    unit = "scenario parameter" + bounds
    return Column(path, unit, field.description or "", "parameter", kind)


# ---- the dictionary -------------------------------------------------------------------------


def describe(name: str, level: str, summaries: dict[str, Any] | None = None) -> Column:
    """What a column of a ``level`` table is: registry, runner, parameter or named summary."""
    if name in RUNNER_COLUMNS and not (level == "cluster" and name in ("step",)):
        found = RUNNER_COLUMNS[name]
        if registry.lookup(name, level) is None:
            return found
    outcome = registry.lookup(name, level)
    if outcome is None and level == "summary":
        outcome = registry.lookup(name, "aggregate")
    if outcome is not None:
        unit = outcome.unit
        meaning = outcome.meaning
        if outcome.type == registry.CATEGORY:
            if name in LABEL_TEXT:
                unit, meaning = LABEL_TEXT[name]
            else:
                unit = f"label: {', '.join(CATEGORY_LABELS.get(name, ()))}"
        return Column(name, unit, meaning, outcome.level, outcome.type)
    if summaries and name in summaries:
        summary = summaries[name]
        source = registry.lookup(summary.column, "aggregate")
        unit = source.unit if source is not None and summary.reduce != "growth" else ""
        return Column(
            name,
            unit or "ratio - 1" if summary.reduce == "growth" else unit,
            f"{summary.reduce} of {summary.column} over the run's steps (experiment summary)",
            "summary",
        )
    parameter = parameter_column(name)
    if parameter is not None:
        return parameter
    return Column(name, "", "(undocumented column)", level)


def dictionary(
    table: str, frame: pd.DataFrame, level: str, summaries: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One row per column of ``frame``: table, name, unit, meaning, level, type."""
    rows = []
    for name in frame.columns:
        column = describe(str(name), level, summaries)
        rows.append(
            {
                "table": table,
                "name": column.name,
                "unit": column.unit,
                "meaning": column.meaning,
                "level": column.level,
                "type": column.type,
            }
        )
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


# ---- presentation ---------------------------------------------------------------------------

CATEGORY_LABELS: dict[str, tuple[str, ...]] = {
    "coordinator": COORDINATOR_KINDS,
    "cluster_type": CLUSTER_TYPES,
}


LABEL_TEXT: dict[str, tuple[str, str]] = {
    "product": ("label: one of world.products", "the cluster's product"),
    "region": ("label: R0, R1, ... (the region's index)", "the cluster's region"),
}


def present(frame: pd.DataFrame, level: str, products: list[str] | None = None) -> pd.DataFrame:
    """The table as written: codes as labels, counts and flags as integers (nullable when a
    value is missing); real columns untouched."""
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        kind = describe(str(name), level).type
        if kind == registry.CATEGORY and pd.api.types.is_numeric_dtype(column):
            frame[name] = _labels(str(name), column, products)
        elif kind in (registry.INTEGER, registry.FLAG) and pd.api.types.is_float_dtype(column):
            whole = column.dropna()
            if not np.all(np.isfinite(whole)) or not np.all(whole == np.round(whole)):
                continue  # not whole numbers (e.g. a mean): leave as is
            frame[name] = column.astype("int64" if len(whole) == len(column) else "Int64")
    return frame


def _labels(name: str, codes: pd.Series, products: list[str] | None) -> pd.Series:
    if name == "product" and products:
        labels: tuple[str, ...] = tuple(products)
    elif name == "region":
        return codes.map(lambda r: f"R{int(r)}")
    else:
        labels = CATEGORY_LABELS.get(name, ())
    if not labels:
        return codes
    return codes.map(lambda code: labels[int(code)] if pd.notna(code) else None)


def write_csv(frame: pd.DataFrame, path: Path, *, header: bool = True, mode: str = "w") -> None:
    """CSV for spreadsheets: text quoted, numbers bare, missing values empty; seeds as text (a
    spreadsheet reading a 19-digit integer rounds it to 15 digits; pandas reads it back exact)."""
    if "seed" in frame.columns:
        frame = frame.assign(seed=frame["seed"].map(lambda s: "" if pd.isna(s) else str(int(s))))
    frame.to_csv(
        path,
        index=False,
        header=header,
        mode=mode,
        quoting=csv.QUOTE_NONNUMERIC,
        lineterminator="\n",
    )


# ---- headings ------------------------------------------------------------------------------

SHORT_NAMES: dict[str, str] = {
    VA_INDEX: "value added index",
    "value_added": "value added per quarter, final year",
    "cumulative_value_added": "cumulative value added",
    "value_added_growth": "value added growth, final year vs start",
    "va_per_worker": "value added per worker, final year",
    "market_share": "market share vs outside competitors",
    "export_share": "export share of sales",
    "employment": "employment, final year",
    "firms": "firms, final year",
    "survival": "survival of founding firms",
    "vertical_linkage": "inputs sourced inside the cluster",
    "horizontal_density": "horizontal tie density",
    "joint_action": "joint action",
    "takeup_rate": "programme take-up",
    "support_gini": "Gini of support across clusters",
    "share_unsupported": "share of clusters never supported",
    "budget_spent": "budget spent",
    "va_gain": "value added gained over no policy (same seed)",
    "va_gain_per_budget": "value added gained per unit of budget",
    "sales_from_outside": "sales taken from outside competitors",
    "sales_from_market_growth": "sales from market growth",
}
SHORT_UNITS: dict[str, str] = {VA_INDEX: "ratio - 1", "va_gain_per_budget": "ratio"}


def heading(name: str, level: str = "summary") -> str:
    """A row or axis title: the outcome's short name with its unit, e.g. "employment, final year
    (workers)"; the bare name when the column is undocumented."""
    column = describe(name, level)
    unit = SHORT_UNITS.get(name, column.unit)
    short = SHORT_NAMES.get(name, name.replace("_", " "))
    if level != "summary":  # a per-step column: every quarter, not the final year's mean
        short = short.removesuffix(", final year")
    return f"{short} ({unit})" if unit else short
