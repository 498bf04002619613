"""Run seeds: stable whatever runs where or when, independent or common across points.

``SeedSequence(master, spawn_key=...)`` gives statistically independent streams without a shared
counter, so a run's seed depends only on its coordinates: resuming, reordering or splitting a
sweep across machines never changes a result.

- ``independent`` (the default): ``spawn_key=(point, replicate)``, every run its own world. Needed
  where a design treats run noise as independent (Morris, Sobol estimators).
- ``common``: ``spawn_key=(replicate,)``, so replicate r of every point runs on the same seed
  (common random numbers). The model gives every regime the same initial world and demand path
  for a given seed, so differences between points, paired by replicate, measure the policy rather
  than the luck of the draw.
- ``paired``: ``spawn_key=(PAIRED, design_row, replicate)``: the scenarios at one design point
  share their seeds (replicate r of top-down and of bottom-up at point p run the same world), and
  every design point gets new ones. A per-point contrast (the regime gap) is then paired, while
  the design's points stay independent draws, as Morris and Sobol estimators assume: their
  indices of the gap measure the parameters, not one world's luck. Scenario discovery (regimes
  compared within a point, points sampling the world's uncertainty, seeds included) uses it too.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

SeedMode = Literal["independent", "common", "paired"]
SEED_MODES: tuple[str, ...] = ("independent", "common", "paired")
PAIRED = 2**32  # first spawn-key entry of paired seeds: a stream apart from the other modes


def run_seed(
    master_seed: int,
    point: int,
    replicate: int,
    mode: SeedMode = "independent",
    design_row: int | None = None,
) -> int:
    """The integer seed of one run (63 bits, accepted by numpy and ``mesa.Model(rng=...)``).

    master_seed: the experiment's root seed
    point: the run's point (scenario x design row)
    replicate: the run's replicate
    mode: independent, common or paired
    design_row: the point's row of the design, shared by its scenarios (paired only)
    """
    if mode == "common":
        key: tuple[int, ...] = (replicate,)
    elif mode == "independent":
        key = (point, replicate)
    elif mode == "paired":
        if design_row is None:
            raise ValueError("paired seeds need the point's design row")
        key = (PAIRED, design_row, replicate)
    else:
        raise ValueError(f"unknown seed mode {mode!r}: expected one of {', '.join(SEED_MODES)}")
    sequence = np.random.SeedSequence(master_seed, spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
