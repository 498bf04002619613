"""How many compiled calls a quarter makes, and what each costs (dispatch included): every numba
kernel the model's modules hold is wrapped in a timer. ``python -m bench.kernel_calls --scale 1``.

CPU time of this process (``bench.timing.timed``, as ``bench.phases``). The difference between
a quarter's time and its kernels' time is the Python and numpy between the kernels (the fixed
cost issue 12 measures).
"""

from __future__ import annotations

import argparse
import collections
import gc
import sys
import time
from collections.abc import Callable

import numba

import sim.model.model
from bench.timing import timed


def wrap_kernels(seconds: collections.Counter, calls: collections.Counter) -> None:
    """Replace every kernel in every loaded ``sim`` module's namespace by a timed wrapper (one
    wrapper per kernel, so a kernel imported under two names counts once per call)."""
    wrappers: dict[object, Callable] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("sim."):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, numba.core.dispatcher.Dispatcher):
                if value not in wrappers:
                    label = f"{value.py_func.__module__.rsplit('.', 1)[-1]}.{value.__name__}"
                    wrappers[value] = timed(value, label, seconds, calls)
                setattr(module, attribute, wrappers[value])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scenario", default="top_down")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--top", type=int, default=15, help="kernels listed")
    args = parser.parse_args(argv)
    seconds: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    wrap_kernels(seconds, calls)
    model = sim.model.model.ClusterModel(
        scenario=args.scenario, seed=1, overrides={"world.scale": args.scale}
    )
    for _ in range(3):  # kernels loaded, first-call costs paid
        model.step()
    seconds.clear()
    calls.clear()
    gc.collect()
    gc.freeze()
    start = time.process_time()
    for _ in range(args.steps):
        model.step()
    per_step = (time.process_time() - start) / args.steps
    in_kernels = sum(seconds.values()) / args.steps
    print(
        f"{args.scenario}, scale {args.scale}: {model.firms.n_alive} firms, "
        f"{per_step * 1e3:.3f} ms a quarter, {sum(calls.values()) / args.steps:.1f} kernel calls "
        f"taking {in_kernels * 1e3:.3f} ms (the rest, {(per_step - in_kernels) * 1e3:.3f} ms, "
        "is Python and numpy between them)"
    )
    for label, total in seconds.most_common(args.top):
        per_step_us = total / args.steps * 1e6
        print(f"  {label:<45} {calls[label] / args.steps:5.1f} calls {per_step_us:8.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
