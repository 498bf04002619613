"""klaster: agent-based simulation of SME cluster policy regimes."""

__version__ = "0.1.0"
