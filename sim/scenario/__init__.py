"""What a run is asked to do: the Scenario schema, file loading (``extends``, overrides), the
names and codes model and files share, the regime presets. The lowest layer: it imports
nothing else of ``sim``."""

from sim.scenario.errors import InputError
from sim.scenario.files import load_scenario
from sim.scenario.presets import BASELINE, PRESETS, REGIMES
from sim.scenario.schema import Scenario

__all__ = ["BASELINE", "PRESETS", "REGIMES", "InputError", "Scenario", "load_scenario"]
