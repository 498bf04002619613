"""Writing result tables and manifests into a result folder.

The folder itself (where, whether it may be written, staging and moving in) is
``sim.runner.folders.atomic_folder``, re-exported here for the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.runner.folders import atomic_folder

__all__ = ["atomic_folder", "write_json", "write_table"]


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> None:
    """Parquet for analysis, CSV for spreadsheets."""
    frame.to_parquet(folder / f"{stem}.parquet", index=False)
    frame.to_csv(folder / f"{stem}.csv", index=False)


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
