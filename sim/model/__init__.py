"""Everything a run computes: the Mesa agents, the model, one module per process, its kernels.

Imports run one way: tooling (runner, report, viz, calibrate, commands) -> ``sim.model`` ->
``sim.scenario``; nothing in here imports tooling, and the model's modules form no circle
(``tests/test_imports.py``). ``sim.model.digest`` hashes exactly this package and
``sim.scenario``: they key stored runs and the compiled-kernel cache.
"""

from sim.model.model import ClusterModel
from sim.model.results import RunResult
from sim.model.simulate import simulate

__all__ = ["ClusterModel", "RunResult", "simulate"]
