"""The run store: one Parquet file per finished run, written atomically, plus the failures log.

A run file appears under its final name only once complete (temp file, then ``os.replace``), so
whatever kills the sweep, a file that exists is whole and a re-run can skip it. The folder lock
(``folders.folder_lock``) keeps two sweeps from writing one folder at once.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runner.folders import LOCK_NAME, SweepLocked, folder_lock

RUN_META = b"klaster.run"
DIAGNOSTICS_META = b"klaster.diagnostics"
__all__ = ["LOCK_NAME", "FailureLog", "SweepLocked", "folder_lock", "write_run"]


def runs_dir(out_dir: Path) -> Path:
    return out_dir / "runs"


def run_path(out_dir: Path, key: str) -> Path:
    return runs_dir(out_dir) / f"{key}.parquet"


def is_done(out_dir: Path, key: str) -> bool:
    return run_path(out_dir, key).is_file()


def write_run(
    out_dir: Path,
    key: str,
    steps: pd.DataFrame,
    record: dict[str, Any],
    diagnostics: dict[str, Any],
) -> Path:
    """Write one run: its per-step table, the run record (seed, parameters, summary) as metadata."""
    table = pa.Table.from_pandas(steps, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[RUN_META] = json.dumps(record, default=_jsonable).encode()  # keeps summary order
    metadata[DIAGNOSTICS_META] = json.dumps(diagnostics, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    final = run_path(out_dir, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{key}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return final


def read_record(out_dir: Path, key: str) -> dict[str, Any]:
    """The run record (seed, parameters, summary) without reading the table itself."""
    return record_of(pq.read_schema(run_path(out_dir, key)))


def record_of(schema: pa.Schema) -> dict[str, Any]:
    """The run record stored in a run file's schema (``read_run`` reads both at once)."""
    return json.loads((schema.metadata or {})[RUN_META])


def read_run(out_dir: Path, key: str) -> pa.Table:
    """A run's per-step table, its record in ``record_of(table.schema)``: one read of the file."""
    return pq.read_table(run_path(out_dir, key))


def read_diagnostics(out_dir: Path, key: str) -> dict[str, Any]:
    metadata = pq.read_schema(run_path(out_dir, key)).metadata or {}
    return json.loads(metadata.get(DIAGNOSTICS_META, b"{}"))


def read_steps(out_dir: Path, key: str) -> pd.DataFrame:
    return pq.read_table(run_path(out_dir, key)).to_pandas()


def step_columns(out_dir: Path, key: str) -> list[str]:
    return list(pq.read_schema(run_path(out_dir, key)).names)


def clean_temp_files(out_dir: Path) -> int:
    """Remove half-written files left by a killed sweep; they are never read."""
    removed = 0
    folder = runs_dir(out_dir)
    if folder.is_dir():
        for temp in folder.glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
                removed += 1
    return removed


class FailureLog:
    """``failures.jsonl``: a JSON line per failed run of the latest sweep (params, seed, traceback).

    Only the sweep's main process writes it, so lines never interleave. Each line is written by
    one ``write`` and, if the disk fills mid-line, cut back to the last whole line: a reader
    never meets half a line.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / "failures.jsonl"
        self.path.write_text("", encoding="utf-8")

    def add(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, sort_keys=True, default=_jsonable) + "\n").encode("utf-8")
        with open(self.path, "ab", buffering=0) as handle:
            whole = handle.tell()
            try:
                written = 0
                while written < len(line):
                    written += handle.write(line[written:])
            except OSError:
                with contextlib.suppress(OSError):
                    handle.truncate(whole)
                raise


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
