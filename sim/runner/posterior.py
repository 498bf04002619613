"""A posterior sample as experiment input: each replicate draws a parameter set and a seed.

``klaster calibrate`` writes the accepted parameter sets as a table (``posterior.parquet`` or
``posterior.csv``): one row per set, a column per dotted scenario key, and a ``weight`` column.
An experiment's ``posterior: FILE`` makes every run apply one row on top of its scenario (the
experiment's ``vary`` still wins), so a contrast's interval carries parameter uncertainty as
well as world-to-world noise.

The row is drawn from the run's seed, so it inherits the seed mode's sharing: with
``seeds: common`` replicate r of every scenario runs on the same parameter set and the same world
(contrasts stay paired), and a sweep is as deterministic for a given master seed as without.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.errors import InputError

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
DRAW_STREAM = 0xB05  # mixed into the run seed so the draw is not the seed's own first number


@dataclass(frozen=True)
class Posterior:
    path: Path
    keys: list[str]
    values: list[dict[str, Any]]  # one mapping of dotted key -> value per parameter set
    weights: np.ndarray  # normalised

    def draw(self, seed: int) -> int:
        """The parameter set a run with this seed uses."""
        rng = np.random.default_rng([seed, DRAW_STREAM])
        return int(rng.choice(len(self.values), p=self.weights))


def read_posterior(path: str | Path) -> Posterior:
    """Read a posterior table (.parquet or .csv); bad files are InputErrors naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: posterior file not found")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 (any unreadable table is bad input)
        raise InputError(f"{path}: not a readable posterior table ({type(exc).__name__})") from None
    keys = [str(c) for c in frame.columns if KEY.match(str(c))]
    if not keys or frame.empty:
        raise InputError(
            f"{path}: expected rows of parameter sets with dotted scenario keys as columns "
            "(e.g. market.customer_turnover) and a weight column"
        )
    if "weight" in frame:
        weights = frame["weight"].to_numpy(dtype=float)
        if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.sum() <= 0:
            raise InputError(f"{path}: weight: expected non-negative numbers with a positive sum")
    else:
        weights = np.ones(len(frame))
    values = [
        {key: _plain(row[key]) for key in keys} for row in frame[keys].to_dict(orient="records")
    ]
    return Posterior(path, keys, values, weights / weights.sum())


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers (scenario validation and run keys want plain values)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
