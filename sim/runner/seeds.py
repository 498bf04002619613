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
- ``paired``: ``spawn_key=(design point, replicate)`` with the design point counted without the
  scenario, so every scenario at a design point runs on the same seeds (paired) while different
  design points run in different worlds (independent). For scenario discovery: regimes are
  compared within a point, and the points sample the world's uncertainty, seeds included.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

SeedMode = Literal["independent", "common", "paired"]
SEED_MODES: tuple[str, ...] = ("independent", "common", "paired")


def run_seed(master_seed: int, point: int, replicate: int, mode: SeedMode = "independent") -> int:
    """The integer seed of one run (63 bits, accepted by numpy and ``mesa.Model(rng=...)``).

    ``point`` is the run's point; for ``paired``, its design point (the same in every scenario).
    """
    if mode == "common":
        key: tuple[int, ...] = (replicate,)
    elif mode in ("independent", "paired"):
        key = (point, replicate)
    else:
        raise ValueError(f"unknown seed mode {mode!r}: expected one of {', '.join(SEED_MODES)}")
    sequence = np.random.SeedSequence(master_seed, spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
