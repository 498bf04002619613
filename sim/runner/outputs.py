"""Writing result tables and manifests into a result folder. Every table is written as Parquet
and CSV, as a reader gets it (``sim.runner.tables``), with its column dictionary in
``columns.csv`` beside it.

The folder itself (where, whether it may be written, staging and moving in) is
``sim.runner.folders.atomic_folder``, re-exported here for the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.runner import tables
from sim.runner.folders import atomic_folder

__all__ = ["atomic_folder", "write_dictionary", "write_json", "write_table"]


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
