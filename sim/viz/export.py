"""The current run's tables as CSV, for the view's download button.

One zip: the regime's outcomes per quarter, the no-policy twin's, every cluster per quarter, the
settings that produced them, and a column dictionary (unit and meaning of every column, from the
outcome registry ``sim.model.outcomes``). Categories are written as labels, counts as integers
and the seed as text, so a spreadsheet reads the files as they are.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.model.outcomes import lookup
from sim.scenario.codes import CLUSTER_TYPES, COORDINATOR_KINDS

INTEGER_COLUMNS: tuple[str, ...] = ("step", "firms", "entries", "exits", "members", "selected")
EXTRA_COLUMNS: dict[str, tuple[str, str]] = {  # columns of these files the registry lacks
    "regime": ("text", "the scenario (regime preset) of the row"),
    "setting": ("text", "a setting of the run"),
    "value": ("text", "its value"),
    "table": ("text", "the file a column belongs to"),
    "column": ("text", "the column's name"),
    "level": ("text", "aggregate (whole world per quarter) or cluster (one cluster per quarter)"),
    "unit": ("text", "the unit of the column's values"),
    "meaning": ("text", "what the column measures"),
}


def _tidy(frame: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Codes as labels and counts as integers, in a copy."""
    out = frame.copy()
    products = list(model.config.world.products)
    if "product" in out and out["product"].dtype.kind in "iuf":
        out["product"] = [products[int(p)] for p in out["product"]]
    if "coordinator" in out:
        out["coordinator"] = [COORDINATOR_KINDS[int(c)] for c in out["coordinator"]]
    if "cluster_type" in out:
        out["cluster_type"] = [CLUSTER_TYPES[int(t)] for t in out["cluster_type"]]
    for column in INTEGER_COLUMNS:
        if column in out and np.isfinite(out[column]).all():
            out[column] = out[column].astype(np.int64)
    return out


def run_tables(model: Any) -> dict[str, pd.DataFrame]:
    """File name -> table for the model shown in the view (a ``VizModel``) and its twin."""
    tables: dict[str, pd.DataFrame] = {}
    steps = _tidy(model.history(), model)
    steps.insert(0, "regime", model.config.name)
    tables["steps.csv"] = steps
    twin = getattr(model, "baseline", None)
    if twin is not None:
        twin_steps = _tidy(twin.history(), twin)
        twin_steps.insert(0, "regime", twin.config.name)
        tables["steps_no_policy.csv"] = twin_steps
    clusters = _tidy(model.cluster_history(), model)
    clusters.insert(0, "regime", model.config.name)
    tables["clusters.csv"] = clusters
    tables["settings.csv"] = settings_table(model)
    tables["columns.csv"] = column_dictionary(tables)
    return tables


def settings_table(model: Any) -> pd.DataFrame:
    """What produced the run: preset, seed (as text), every policy ingredient, shocks fired."""
    s = model.settings
    rows = [
        ("preset", s.preset),
        ("modified", "yes" if s.modified else "no"),
        ("seed", str(model.seed)),
        ("quarters", str(int(model.steps))),
        ("klaster_version", sim.__version__),
    ]
    policy = model.config.policy.model_dump()
    rows += [(f"policy.{key}", str(value)) for key, value in policy.items()]
    rows += [
        (
            f"shock_{i + 1}",
            f"{shock.size:.2f} of {'+'.join(shock.segments)} demand at quarter {shock.step}",
        )
        for i, shock in enumerate(getattr(model, "shocks", []))
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def column_dictionary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Unit and meaning of every column of the other files (the outcome registry's words)."""
    rows = []
    for table, frame in tables.items():
        level = "cluster" if table == "clusters.csv" else "aggregate"
        for column in frame.columns:
            outcome = lookup(column, level)
            if outcome is not None:
                unit, meaning = outcome.unit, outcome.meaning
                if column in ("product", "coordinator", "cluster_type"):
                    unit = "label"
            else:
                unit, meaning = EXTRA_COLUMNS.get(column, ("", ""))
            rows.append((table, column, level, unit, meaning))
    return pd.DataFrame(rows, columns=["table", "column", "level", "unit", "meaning"])


def run_zip(model: Any) -> bytes:
    """The tables of ``run_tables`` as one zip of CSV files."""
    tables = run_tables(model)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables.items():
            archive.writestr(name, frame.to_csv(index=False))
    return buffer.getvalue()


def zip_name(model: Any) -> str:
    return f"klaster-{model.config.name}-seed{model.seed}-q{int(model.steps)}.zip"
