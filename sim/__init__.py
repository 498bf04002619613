"""klaster: agent-based simulation of SME cluster policy regimes.

The Python API (``sim.build``, ``sim.run``, ``sim.compare``, ``sim.sweep``, ...; docs/python.md)
lives in ``sim.api`` and is loaded on first use, so ``import sim`` and the command line stay quick.
"""

__version__ = "0.1.0"

API = (
    "ClusterModel",
    "InputError",
    "RunResult",
    "Scenario",
    "build",
    "clusters",
    "compare",
    "interval_table",
    "outcomes",
    "run",
    "scenario",
    "sweep",
)
__all__ = ["__version__", *API]


def __getattr__(name: str):
    """Load the API on first use (PEP 562): ``import sim`` imports neither Mesa nor numba."""
    if name in API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
