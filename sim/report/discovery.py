"""Scenario discovery: the boxes of parameter space where an outcome of interest holds, found by
PRIM (Friedman & Fisher 1999; Bryant & Lempert 2010) as EMA Workbench implements it
(``ema_workbench.analysis.prim``, the ``ema`` extra).

PRIM peels the sampled space one thin slice at a time, keeping the points where the outcome holds
denser and denser; each step of its peeling trajectory is a box with a coverage (share of all
cases of interest inside it) and a density (share of the points inside it that are cases). The
box reported here is the densest one that still covers at least ``MIN_COVERAGE`` of the cases
and restricts at most ``MAX_RESTRICTED`` parameters (a box of many narrow limits fitted to a few
cases says little; Bryant & Lempert 2010 ask for boxes a reader can interpret): a rule stated in
advance, not picked by eye.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_COVERAGE = 0.5
MAX_RESTRICTED = 3
INSTALL_HINT = (
    'PRIM comes from EMA Workbench, an optional extra: pip install "klaster[ema]" '
    "(make install includes it), then rebuild the report."
)


@dataclass
class Box:
    """One PRIM box: where it is, how much of the cases it covers, how pure it is."""

    limits: pd.DataFrame  # parameter, low, high, sampled_low, sampled_high (restricted only)
    coverage: float
    density: float
    mass: float  # share of all points inside the box
    trajectory: pd.DataFrame  # coverage, density, mass, restricted (one row per peeling step)
    chosen: int  # the trajectory row of the box


@dataclass
class Discovery:
    """What PRIM found for one outcome of interest."""

    question: str
    cases: int
    points: int
    box: Box | None  # None: no cases, all cases, or PRIM unavailable
    note: str = ""

    @property
    def base_rate(self) -> float:
        return self.cases / self.points if self.points else float("nan")


def prim_available() -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench.analysis.prim  # noqa: F401
    except ImportError:
        return False
    return True


def discover(x: pd.DataFrame, y: np.ndarray, question: str) -> Discovery:
    """Run PRIM on points ``x`` (one column per sampled parameter) and cases ``y`` (bool)."""
    y = np.asarray(y, dtype=bool)
    found = Discovery(question, int(y.sum()), len(y), None)
    if found.cases == 0 or found.cases == found.points:
        found.note = "holds at no sampled point" if found.cases == 0 else "holds at every point"
        return found
    if not prim_available():
        found.note = INSTALL_HINT
        return found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    x = x.astype(float).reset_index(drop=True)
    options = {"peel_alpha": 0.05, "mass_min": 0.05}
    if "threshold" in inspect.signature(prim.Prim).parameters:  # ema_workbench 2.x
        # 2.x counts y >= threshold as cases and drops a final box whose mean is below it: any
        # threshold in (0, 1] makes the cases y == 1, a tiny one keeps every trajectory
        options["threshold"] = 1e-6
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prim.Prim(x, y, **options).find_box()
    found.box = _box(result, x)
    return found


def _box(result, x: pd.DataFrame) -> Box:
    trajectory = result.peeling_trajectory[["coverage", "density", "mass"]].astype(float)
    trajectory = trajectory.reset_index(drop=True)
    initial = result.box_lims[0]
    trajectory["restricted"] = [
        len(_restricted(lims, initial)) for lims in result.box_lims[: len(trajectory)]
    ]
    covering = trajectory["coverage"] >= MIN_COVERAGE
    eligible = trajectory.index[covering & (trajectory["restricted"] <= MAX_RESTRICTED)]
    chosen = int(trajectory.loc[eligible, "density"].idxmax()) if len(eligible) else 0
    lims = result.box_lims[chosen]
    limits = pd.DataFrame(
        [
            {
                "parameter": name,
                "low": float(lims.loc[0, name]),
                "high": float(lims.loc[1, name]),
                "sampled_low": float(x[name].min()),
                "sampled_high": float(x[name].max()),
            }
            for name in _restricted(lims, initial)
        ],
        columns=["parameter", "low", "high", "sampled_low", "sampled_high"],
    )
    row = trajectory.loc[chosen]
    return Box(
        limits,
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        trajectory,
        chosen,
    )


def _restricted(lims: pd.DataFrame, initial: pd.DataFrame) -> list[str]:
    """Parameters whose range the box narrows."""
    return [
        name
        for name in lims.columns
        if not np.isclose(lims.loc[0, name], initial.loc[0, name])
        or not np.isclose(lims.loc[1, name], initial.loc[1, name])
    ]
