"""The consolidated tables: one row per run (parameters, outcome summaries, the value added index
and the point's policy parameters), in plan order; with ``keep: every_step``, every step of every
run too (Parquet and CSV); and ``columns.csv``, what every column is.

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

from sim.runner import store, tables
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
    """Write outcomes.parquet and outcomes.csv, steps.parquet and steps.csv for
    ``keep: every_step``, and columns.csv."""
    experiment = plan.experiment
    needs_steps = bool(experiment.summaries)
    rows: list[dict[str, Any]] = []
    outcome_columns: dict[str, None] = {}
    steps_writer: pq.ParquetWriter | None = None
    steps_path = out_dir / "steps.parquet"
    steps_temp = steps_path.with_name(".steps.parquet.tmp")
    steps_csv = out_dir / "steps.csv"
    steps_csv_temp = steps_csv.with_name(".steps.csv.tmp")
    steps_dictionary: pd.DataFrame | None = None
    policies: dict[int, dict[str, Any]] = {}
    with contextlib.suppress(FileNotFoundError):
        steps_csv_temp.unlink()  # left by an interrupted consolidation
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
            if spec.draw is not None:  # the set it drew, and its values (vary wins)
                row["posterior_draw"] = spec.draw
                drawn = plan.posterior.values[spec.draw]  # type: ignore[union-attr]
                row.update({k: _cell(v) for k, v in drawn.items() if k not in point.params})
            row["run"] = spec.key
            done = store.is_done(out_dir, spec.key)
            row["failed"] = not done
            if done:
                if not (needs_steps or experiment.keep == "every_step"):
                    outcomes = dict(store.read_record(out_dir, spec.key)["summary"])
                    outcomes[tables.VA_INDEX] = _va_index(_headline_columns(out_dir, spec.key))
                else:  # one read of the run file gives its record and its steps
                    run_table = store.read_run(out_dir, spec.key)
                    outcomes = dict(store.record_of(run_table.schema)["summary"])
                    outcomes[tables.VA_INDEX] = _va_index(run_table)
                    if needs_steps:
                        check_summaries(plan, run_table.column_names)
                        for name, summary in experiment.summaries.items():
                            outcomes[name] = reduce_column(run_table, summary)
                    if experiment.keep == "every_step":
                        steps = run_table.to_pandas()
                        steps.insert(0, "replicate", spec.replicate)
                        steps.insert(0, "point", spec.point)
                        steps = tables.present(steps, "aggregate")
                        table = pa.Table.from_pandas(steps, preserve_index=False)
                        first = steps_writer is None
                        if steps_writer is None:
                            steps_writer = pq.ParquetWriter(steps_temp, table.schema)
                            steps_dictionary = tables.dictionary("steps", steps, "aggregate")
                        steps_writer.write_table(table.cast(steps_writer.schema))
                        tables.write_csv(
                            steps[steps_writer.schema.names],
                            steps_csv_temp,
                            header=first,
                            mode="w" if first else "a",
                        )
                        del steps
                    del run_table
                outcome_columns.update(dict.fromkeys(outcomes))
                row.update(outcomes)
            if spec.point not in policies:
                policies[spec.point] = tables.policy_parameters(plan.scenario(point))
            row.update({k: v for k, v in policies[spec.point].items() if k not in row})
            rows.append(row)
    finally:
        if steps_writer is not None:
            steps_writer.close()
    written: dict[str, Path] = {}
    if steps_writer is not None:
        os.replace(steps_temp, steps_path)
        os.replace(steps_csv_temp, steps_csv)
        written["steps"] = steps_path
        written["steps_csv"] = steps_csv
    else:
        for path in (steps_path, steps_csv, steps_csv_temp):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    drawn = []
    if plan.posterior is not None:
        drawn = [
            "posterior_draw",
            *[k for k in plan.posterior.keys if k not in plan.experiment.vary],
        ]
    leading = [*ID_COLUMNS, *drawn, *plan.experiment.vary, "run", "failed"]
    parameters = [c for c in dict.fromkeys(k for p in policies.values() for k in p)]
    measured = [c for c in outcome_columns if c not in leading]
    trailing = [c for c in parameters if c not in leading and c not in measured]
    frame = pd.DataFrame(rows, columns=[*leading, *measured, *trailing])
    for column in measured:
        frame[column] = frame[column].astype(float)
    frame = tables.present(frame, "summary")
    written["outcomes"] = _write_atomic(frame, out_dir / "outcomes.parquet", parquet=True)
    written["csv"] = _write_atomic(frame, out_dir / "outcomes.csv", parquet=False)
    parts = [tables.dictionary("outcomes", frame, "summary", experiment.summaries)]
    if steps_dictionary is not None and "steps" in written:
        parts.append(steps_dictionary)
    dictionary = pd.concat(parts, ignore_index=True)
    written["columns"] = _write_atomic(dictionary, out_dir / tables.DICTIONARY, parquet=False)
    return written


def _va_index(steps: pa.Table) -> float:
    """The run's value added index (NaN when its table has no value added)."""
    if "value_added" not in steps.column_names:
        return math.nan
    values = np.asarray(steps.column("value_added").to_numpy(), dtype=float)
    if "step" in steps.column_names:
        step = np.asarray(steps.column("step").to_numpy(), dtype=float)
        values = values[np.argsort(step, kind="stable")]
    return tables.va_index(values)


def _headline_columns(out_dir: Path, key: str) -> pa.Table:
    """Only the columns the value added index needs, from a run's file."""
    path = store.run_path(out_dir, key)
    names = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in ("step", "value_added") if c in names])


def _cell(value: Any) -> Any:
    """Lists (e.g. a varied share vector) become text so every column has one scalar type."""
    return repr(value) if isinstance(value, (list, dict, tuple)) else value


def _write_atomic(frame: pd.DataFrame, path: Path, parquet: bool) -> Path:
    temp = path.with_name(f".{path.name}.tmp")
    if parquet:
        frame.to_parquet(temp, index=False)
    else:
        tables.write_csv(frame, temp)
    os.replace(temp, path)
    return path
