"""Run seeds: independent streams per (point, replicate), stable whatever runs where or when.

``SeedSequence(master, spawn_key=(point, replicate))`` gives statistically independent streams
without a shared counter, so a run's seed depends only on its coordinates: resuming, reordering or
splitting a sweep across machines never changes a result.
"""

from __future__ import annotations

import numpy as np


def run_seed(master_seed: int, point: int, replicate: int) -> int:
    """The integer seed of one run (63 bits, accepted by numpy and ``mesa.Model(rng=...)``)."""
    sequence = np.random.SeedSequence(master_seed, spawn_key=(point, replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
