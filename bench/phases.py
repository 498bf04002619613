"""Where a quarter's time goes: CPU seconds per phase of the step, by wrapping the functions
the model calls. CPU time of this process, not wall time, so other load on the machine does not
blur it (a sampling profiler's wall clock does). ``python -m bench.phases --scale 35``.
"""

from __future__ import annotations

import argparse
import collections
import gc
import time

import sim.model.government
import sim.model.model
from bench.timing import timed

# module -> functions the step calls through that module's namespace
PHASES: dict[object, tuple[str, ...]] = {
    sim.model.model: (
        "update_coordination",
        "update_ties",
        "learn",
        "produce_and_sell",
        "account",
        "invest_and_adjust",
        "PartnerIndex",
        "cluster_outcomes",
        "classify_clusters",
        "aggregate_outcomes",
        "exits",
        "entrants_per_cluster",
        "initialise_entrants",
    ),
    sim.model.government: (
        "plan",
        "sizes_and_frontiers",
        "assess_needs",
        "apportion",
        "deliver",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=35.0)
    parser.add_argument("--scenario", default="top_down")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument(
        "--freeze-gc",
        action="store_true",
        help="gc.freeze() after every step: what the cyclic GC costs (a driver's choice, not the "
        "model's: freezing keeps cyclic garbage alive, e.g. models a sweep worker dropped)",
    )
    args = parser.parse_args(argv)
    totals: collections.Counter = collections.Counter()
    for module, names in PHASES.items():
        for name in names:
            setattr(module, name, timed(getattr(module, name), name, totals))
    model_class = sim.model.model.ClusterModel
    model_class._register_firms = timed(model_class._register_firms, "agents: create", totals)
    model_class._drop_firm_agents = timed(model_class._drop_firm_agents, "agents: remove", totals)
    registry = sim.model.model.AgentRegistry
    registry.sync = timed(registry.sync, "agents: registry sync", totals)
    model_class._exit_and_entry = timed(model_class._exit_and_entry, "(exit and entry)", totals)
    model_class._compact = timed(model_class._compact, "compaction", totals)
    model_class._collect = timed(model_class._collect, "(outcomes)", totals)
    model_class._quarter = timed(model_class._quarter, "(quarter)", totals)

    model = model_class(scenario=args.scenario, seed=1, overrides={"world.scale": args.scale})
    model.step()
    # CPython's cycle collector runs inside whichever phase allocates; report it on its own too
    collecting: list[float] = []

    def gc_timer(phase: str, info: dict) -> None:
        if phase == "start":
            collecting.append(time.process_time())
        elif collecting:
            totals["(of which: cyclic GC)"] += time.process_time() - collecting.pop()

    gc.callbacks.append(gc_timer)
    totals.clear()
    start = time.process_time()
    for _ in range(args.steps):
        model.step()
        if args.freeze_gc:
            gc.freeze()
    per_step = (time.process_time() - start) / args.steps
    firms = model.firms.n_alive
    print(
        f"{args.scenario}, scale {args.scale}: {firms} firms (buffers for {model.firms.capacity}), "
        f"{per_step * 1e3:.1f} ms CPU per step, {firms / per_step / 1e6:.2f} M firm-steps/s (CPU)"
    )
    for label, seconds in totals.most_common():
        ms = seconds / args.steps * 1e3
        print(f"  {label:<22} {ms:7.2f} ms  {ms / (per_step * 1e3):6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
