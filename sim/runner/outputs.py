"""Writing result folders atomically: everything goes to a temporary sibling folder first, which
replaces the target only when complete, so an interrupted command never leaves half a result.
Every table is written as Parquet and CSV, as a reader gets it (``sim.runner.tables``), with its
column dictionary in ``columns.csv`` beside it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from sim.runner import tables


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes ``target`` (replacing an older one)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(ordinary_folder_mode())  # mkdtemp makes it 0700; results are meant to be read
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        retired = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)


def ordinary_folder_mode() -> int:
    """What ``mkdir`` would give under the current umask (0755 with the usual 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def write_table(
    frame: pd.DataFrame,
    folder: Path,
    stem: str,
    level: str = "aggregate",
    products: list[str] | None = None,
    summaries: dict | None = None,
) -> pd.DataFrame:
    """Parquet for analysis, CSV for spreadsheets, as a reader gets them (codes as labels,
    counts as integers, seeds as text in CSV); return the table's dictionary rows.

    ``level`` is the outcome registry's level of its columns (aggregate, the default; cluster;
    summary for one row per run);
    ``products`` the world's product names, for the ``product`` label.
    """
    shown = tables.present(frame, level, products)
    shown.to_parquet(folder / f"{stem}.parquet", index=False)
    tables.write_csv(shown, folder / f"{stem}.csv")
    return tables.dictionary(stem, shown, level, summaries)


def write_dictionary(folder: Path, parts: list[pd.DataFrame]) -> Path:
    """``columns.csv``: every written table's columns with unit, meaning, level and type."""
    path = folder / tables.DICTIONARY
    pd.concat(parts, ignore_index=True).to_csv(path, index=False, lineterminator="\n")
    return path


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
