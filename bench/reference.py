"""The reference: Mesa's own BoltzmannWealth example, as shipped (its DataCollector included)."""

from __future__ import annotations

import math

from bench.timing import time_steps


def boltzmann(agents: int = 10_000, reps: int = 5, steps: int = 10) -> dict[str, float]:
    """Agent-steps per second of BoltzmannWealth with ``agents`` agents, one agent per cell on
    average as in the shipped example (100 agents on 10 x 10)."""
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannWealth

    side = max(10, round(math.sqrt(agents)))
    model = BoltzmannWealth(n=agents, width=side, height=side, seed=42)
    timing = time_steps(model.step, warmup=2, reps=reps, steps=steps)
    return {
        "model": "mesa.examples BoltzmannWealth (with DataCollector)",
        "agents": agents,
        "grid": f"{side}x{side}",
        **timing,
        "agent_steps_per_sec": agents / timing["sec_per_step"],
        "cpu_agent_steps_per_sec": agents / timing["cpu_sec_per_step"],
    }
