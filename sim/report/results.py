"""Reading a sweep's output folder: outcomes, optional per-step table, manifest facts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.runner.tables import VA_INDEX
from sim.scenario.errors import InputError


@dataclass
class ExperimentResults:
    """One experiment's results folder, as the sweep runner wrote it."""

    name: str
    folder: Path
    outcomes: pd.DataFrame
    manifest: dict[str, Any]
    steps_path: Path | None = None
    _steps: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def steps(self) -> pd.DataFrame | None:
        """Per-step table joined to each run's scenario and parameters (loaded on first use)."""
        if self._steps is None and self.steps_path is not None:
            steps = pd.read_parquet(self.steps_path)
            ids = self.outcomes.drop(columns=[c for c in ("run", "failed") if c in self.outcomes])
            keep = [c for c in ids.columns if c in ("point", "replicate", "seed", "scenario")]
            keep += self.factors
            self._steps = steps.merge(ids[keep], on=["point", "replicate"], how="left")
        return self._steps

    @property
    def factors(self) -> list[str]:
        return list(self.manifest.get("design", {}).get("factors", []))

    @property
    def ok(self) -> pd.DataFrame:
        """Successful runs only."""
        if "failed" in self.outcomes:
            return self.outcomes[~self.outcomes["failed"].astype(bool)]
        return self.outcomes

    def facts(self) -> dict[str, Any]:
        """The manifest facts a reader needs to trace the numbers: code, seeds, design, time."""
        m = self.manifest
        design = m.get("design", {})
        git = m.get("git", {}) or {}
        packages = m.get("packages", {}) or {}
        return {
            "git revision": (git.get("revision") or "unknown")[:12]
            + (" (uncommitted changes)" if git.get("dirty") else ""),
            "model version": m.get("model_version"),
            "master seed": f"{m.get('master_seed')} (seeds: {design.get('seeds', 'independent')})",
            "design": f"{design.get('kind')}: {len(design.get('scenarios', []))} scenario(s) x "
            f"{design.get('points', 0) // max(1, len(design.get('scenarios', [])))} point(s) x "
            f"{design.get('replicates')} seed(s) = {design.get('runs')} runs",
            "runs ok / failed": f"{len(self.ok)} / {len(self.outcomes) - len(self.ok)}",
            "executor": f"{m.get('executor')} ({m.get('workers')} workers)",
            "wall time": f"{m.get('seconds', float('nan')):.0f} s" if m.get("seconds") else "n/a",
            "finished": m.get("finished"),
            "python / mesa / numpy / SALib": " / ".join(
                str(x)
                for x in (
                    m.get("python"),
                    packages.get("mesa"),
                    packages.get("numpy"),
                    packages.get("SALib"),
                )
            ),
            "experiment file": m.get("experiment", {}).get("file"),
        }


def load_results(folder: Path) -> ExperimentResults:
    """Read ``outcomes.parquet`` (or .csv), ``manifest.json`` and, if present, ``steps.parquet``."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"{folder}: no manifest.json (not a sweep output folder)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if (folder / "outcomes.parquet").is_file():
        outcomes = pd.read_parquet(folder / "outcomes.parquet")
    elif (folder / "outcomes.csv").is_file():
        outcomes = pd.read_csv(folder / "outcomes.csv")
    else:
        raise InputError(f"{folder}: no outcomes table; did the sweep finish?")
    steps = folder / "steps.parquet"
    outcomes = add_headline(outcomes, steps if steps.is_file() else None)
    name = str(manifest.get("experiment", {}).get("name") or folder.name)
    return ExperimentResults(
        name=name,
        folder=folder,
        outcomes=outcomes,
        manifest=manifest,
        steps_path=steps if steps.is_file() else None,
    )


HEADLINE = VA_INDEX


def add_headline(outcomes: pd.DataFrame, steps_path: Path | None) -> pd.DataFrame:
    """Add ``va_index``: mean quarterly value added over the run / value added at policy start - 1
    (``sim.runner.tables.va_index``; sweeps since issue 16 write it themselves).

    Normalising each run by its own pre-policy level removes the world-to-world variance that
    otherwise swamps policy effects. From the ``va_mean``/``va_start`` summaries when the
    experiment defines them, else from the per-step table; absent when neither exists.
    """
    outcomes = outcomes.copy()
    for name in outcomes.columns:  # nullable integers (counts of failed runs): NaN-able floats
        if isinstance(outcomes[name].dtype, pd.Int64Dtype):
            outcomes[name] = outcomes[name].astype(float)
    if {"va_mean", "va_start"} <= set(outcomes.columns):
        outcomes[HEADLINE] = outcomes["va_mean"] / outcomes["va_start"] - 1
    elif HEADLINE in outcomes.columns:  # the sweep wrote it (sim.runner.consolidate)
        pass
    elif steps_path is not None:
        steps = pd.read_parquet(steps_path, columns=["point", "replicate", "step", "value_added"])
        steps = steps.sort_values("step")
        by = steps.groupby(["point", "replicate"])["value_added"]
        index = (by.mean() / by.first() - 1).rename(HEADLINE)
        outcomes = outcomes.join(index, on=["point", "replicate"])
    return outcomes


def find_results(root: Path) -> dict[str, ExperimentResults]:
    """Every sweep output folder directly under ``root``, keyed by experiment name."""
    found: dict[str, ExperimentResults] = {}
    for child in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        if child.is_dir() and (child / "manifest.json").is_file():
            try:
                results = load_results(child)
            except InputError:
                continue
            found[results.name] = results
    return found
