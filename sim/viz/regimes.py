"""The four regime presets side by side: one world, one seed, stepped together.

Every preset is built with the same seed, so all four start from the same world and share the
market's draws up to the first policy step (common random numbers, as in ``klaster compare``):
what differs between the lines is the regime, not the luck of the draw.
"""

from __future__ import annotations

import threading

import pandas as pd

from sim.model import ClusterModel
from sim.scenario.presets import PRESETS
from sim.viz.viz_model import release


class RegimeSet:
    """The presets (no policy, top-down, demand-driven, bottom-up) on one seed.

    seed: the seed every regime is built with
    presets: the preset names to run, in display order
    """

    def __init__(self, seed: int = 0, presets: tuple[str, ...] = PRESETS) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.models: dict[str, ClusterModel] = {
            name: ClusterModel(scenario=name, seed=seed) for name in presets
        }

    @property
    def steps(self) -> int:
        return int(next(iter(self.models.values())).steps)

    def step(self) -> None:
        with self.lock:
            for model in self.models.values():
                model.step()

    def release(self) -> None:
        """Free the four models once no view shows them (``sim.viz.viz_model.release``)."""
        release(*self.models.values())

    def histories(self) -> dict[str, pd.DataFrame]:
        """Each regime's aggregate outcomes per quarter (``ClusterModel.history``)."""
        with self.lock:
            return {name: model.history() for name, model in self.models.items()}
