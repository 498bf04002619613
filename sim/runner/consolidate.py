"""The consolidated tables: one row per run (parameters and outcome summaries), in plan order.

Rows are ordered by (point, replicate), never by completion, and nothing time-dependent goes in, so
the table is bit-identical whatever executor ran the sweep and however often it was interrupted.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runner import store
from sim.runner.experiment import Summary
from sim.runner.plan import Plan
from sim.scenario.errors import InputError, shorten

ID_COLUMNS = ("point", "replicate", "seed", "scenario")


def reduce_column(steps: pd.DataFrame | pa.Table, summary: Summary) -> float:
    """Apply a named summary to one run's per-step table (rows in step order)."""
    names = steps.column_names if isinstance(steps, pa.Table) else list(steps.columns)

    def column(name: str) -> np.ndarray:
        data = steps.column(name) if isinstance(steps, pa.Table) else steps[name]
        return np.asarray(data.to_numpy(), dtype=float)

    values = column(summary.column)
    if "step" in names:
        values = values[np.argsort(column("step"), kind="stable")]
    return reduce_values(values, summary)


def reduce_values(values: np.ndarray, summary: Summary) -> float:
    """A named summary of one outcome's values, in step order."""
    if values.size == 0:
        return math.nan
    how = summary.reduce
    if how == "final":
        return float(values[-1])
    if how == "initial":
        return float(values[0])
    if how.startswith("mean_last_"):
        return float(np.mean(values[-int(how.rsplit("_", 1)[1]) :]))
    if how == "change":
        return float(values[-1] - values[0])
    if how == "growth":
        return float(values[-1] / values[0] - 1) if values[0] != 0 else math.nan
    return float(
        {"mean": np.mean, "min": np.min, "max": np.max, "sum": np.sum, "std": np.std}[how](values)
    )


def check_summaries(plan: Plan, columns: list[str]) -> None:
    """Named summaries must name columns the model produces; say which exist if not."""
    for name, summary in plan.experiment.summaries.items():
        if summary.column not in columns:
            raise InputError(
                f"{plan.path}: summaries.{name}.column: {shorten(summary.column)} is not an "
                f"outcome column; the model's columns are: {', '.join(columns)}"
            )


def consolidate(plan: Plan, out_dir: Path) -> dict[str, Path]:
    """Write outcomes.parquet and outcomes.csv, and steps.parquet for ``keep: every_step``."""
    experiment = plan.experiment
    needs_steps = bool(experiment.summaries)
    rows: list[dict[str, Any]] = []
    outcome_columns: dict[str, None] = {}
    steps_writer: pq.ParquetWriter | None = None
    steps_path = out_dir / "steps.parquet"
    steps_temp = steps_path.with_name(".steps.parquet.tmp")
    try:
        for spec in sorted(plan.runs, key=lambda r: (r.point, r.replicate)):
            point = plan.points[spec.point]
            row: dict[str, Any] = {
                "point": spec.point,
                "replicate": spec.replicate,
                "seed": spec.seed,
                "scenario": point.scenario,
            }
            row.update({key: _cell(value) for key, value in point.params.items()})
            row["run"] = spec.key
            done = store.is_done(out_dir, spec.key)
            row["failed"] = not done
            if done:
                if not (needs_steps or experiment.keep == "every_step"):
                    outcomes = dict(store.read_record(out_dir, spec.key)["summary"])
                else:  # one read of the run file gives its record and its steps
                    run_table = store.read_run(out_dir, spec.key)
                    outcomes = dict(store.record_of(run_table.schema)["summary"])
                    if needs_steps:
                        check_summaries(plan, run_table.column_names)
                        for name, summary in experiment.summaries.items():
                            outcomes[name] = reduce_column(run_table, summary)
                    if experiment.keep == "every_step":
                        steps = run_table.to_pandas()
                        steps.insert(0, "replicate", spec.replicate)
                        steps.insert(0, "point", spec.point)
                        table = pa.Table.from_pandas(steps, preserve_index=False)
                        if steps_writer is None:
                            steps_writer = pq.ParquetWriter(steps_temp, table.schema)
                        steps_writer.write_table(table.cast(steps_writer.schema))
                        del steps
                    del run_table
                outcome_columns.update(dict.fromkeys(outcomes))
                row.update(outcomes)
            rows.append(row)
    finally:
        if steps_writer is not None:
            steps_writer.close()
    written: dict[str, Path] = {}
    if steps_writer is not None:
        os.replace(steps_temp, steps_path)
        written["steps"] = steps_path
    else:
        with contextlib.suppress(FileNotFoundError):
            steps_path.unlink()
    leading = [*ID_COLUMNS, *plan.experiment.vary, "run", "failed"]
    frame = pd.DataFrame(
        rows, columns=[*leading, *[c for c in outcome_columns if c not in leading]]
    )
    for column in outcome_columns:
        if column in frame.columns and column not in leading:
            frame[column] = frame[column].astype(float)
    written["outcomes"] = _write_atomic(frame, out_dir / "outcomes.parquet", parquet=True)
    written["csv"] = _write_atomic(frame, out_dir / "outcomes.csv", parquet=False)
    return written


def _cell(value: Any) -> Any:
    """Lists (e.g. a varied share vector) become text so every column has one scalar type."""
    return repr(value) if isinstance(value, (list, dict, tuple)) else value


def _write_atomic(frame: pd.DataFrame, path: Path, parquet: bool) -> Path:
    temp = path.with_name(f".{path.name}.tmp")
    if parquet:
        frame.to_parquet(temp, index=False)
    else:
        frame.to_csv(temp, index=False, float_format=None, lineterminator="\n")
    os.replace(temp, path)
    return path
