"""klaster from Python in a few lines (docs/python.md): build, step, read, run, compare, sweep.

Run it with ``python examples/api_example.py``; it needs only ``pip install klaster`` (no
extras, no files: scenarios are presets or dicts). A small world keeps it to a few seconds.
"""

import sim

small = {"world.n_clusters": 12, "run.burn_in": 4}

# a model from a preset, with one ingredient changed; step it, read its outcomes
model = sim.build("top_down", seed=1, overrides=small, planning_quality=0.9)
for _ in range(4):
    model.step()
print(sim.outcomes(model)[["step", "firms", "value_added", "market_share"]].round(3))
print(sim.clusters(model)[["cluster", "name", "firms", "value_added"]].head(3).round(2))

# a scenario as a dict, run whole: aggregate, per-cluster and summary
mine = {
    "extends": "demand_driven",
    "name": "demand_driven_no_credit",
    "policy": {
        "instrument_mix": {"coaching": 0.5, "equipment": 0.0, "market_linkage": 0.5, "credit": 0.0}
    },
}
result = sim.run(mine, seed=1, steps=4, overrides=small)
print(f"{mine['name']}: cumulative value added {result.summary['cumulative_value_added']:.0f}")

# regimes over the same seeds, gains paired with the no-policy run of each seed
runs = sim.compare(["no_policy", "top_down", mine], seeds=2, steps=4, overrides=small)
print(runs[["scenario", "seed", "cumulative_value_added", "va_gain"]].round(1))

# an experiment as a dict: a sweep over planning quality, one row per run
table = sim.sweep(
    {
        "scenarios": ["top_down"],
        "vary": {"policy.planning_quality": [0.2, 0.9]},
        "replicates": 2,
        "seeds": "common",
        "set": small,
        "steps": 4,
        "summaries": {"va_mean": {"column": "value_added", "reduce": "mean"}},
    }
)
print(table.groupby("policy.planning_quality")["va_mean"].mean().round(1))
