"""What a worker does for one run: simulate, write the result file, report back a small outcome.

The result goes straight to disk from the worker, so neither the executor nor the main process
ever holds run data. After every run the worker drops Mesa's class-level caches and collects
garbage, so a worker's memory does not grow with the number of runs it has done.
"""

from __future__ import annotations

import functools
import gc
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.runner import store
from sim.runner.finite import check_finite
from sim.runner.folders import os_error
from sim.scenario.errors import EnvironmentFailure
from sim.scenario.schema import Scenario

RunFunction = Callable[[Scenario, int], Any]  # returns an object with .aggregate and .summary

_runs_in_this_process = 0
_frozen = False


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs; small and picklable (the scenario is a pydantic model)."""

    key: str
    point: int
    replicate: int
    seed: int
    scenario: Scenario
    params: dict[str, Any]
    out_dir: str
    run_fn: RunFunction


@dataclass(frozen=True)
class RunOutcome:
    key: str
    point: int
    replicate: int
    ok: bool
    seconds: float
    error: str = ""
    traceback: str = ""
    peak_rss_mb: float = 0.0  # the worker's, after this run (the main process reads no run file)
    environment: str = ""  # the machine failed (disk full, permissions): not the run's fault


def execute(task: RunTask) -> RunOutcome:
    """Run one simulation and store it; an exception becomes a failed outcome, never a crash."""
    global _runs_in_this_process
    started = time.perf_counter()
    try:
        result = task.run_fn(task.scenario, task.seed)
        summary = {str(k): float(v) for k, v in dict(result.summary).items()}
        check_finite(summary, result.aggregate, f"run {task.key}")
        record = {
            "key": task.key,
            "point": task.point,
            "replicate": task.replicate,
            "seed": task.seed,
            "scenario": task.scenario.name,
            "params": task.params,
            "summary": summary,
        }
        seconds = time.perf_counter() - started
        _runs_in_this_process += 1
        diagnostics = {
            "seconds": seconds,
            "pid": os.getpid(),
            "runs_in_process": _runs_in_this_process,
            "rss_mb": _rss_mb(),
            "peak_rss_mb": _peak_rss_mb(),
        }
        store.write_run(Path(task.out_dir), task.key, result.aggregate, record, diagnostics)
        del result
        return RunOutcome(
            task.key,
            task.point,
            task.replicate,
            True,
            seconds,
            peak_rss_mb=float(diagnostics["peak_rss_mb"] or 0),
        )
    except Exception as exc:  # noqa: BLE001 (isolating any run failure is the point)
        failure = os_error(exc, task.out_dir) if isinstance(exc, OSError) else None
        if isinstance(failure, EnvironmentFailure):
            return RunOutcome(
                task.key,
                task.point,
                task.replicate,
                False,
                time.perf_counter() - started,
                error=str(failure),
                environment=str(failure),
            )
        return RunOutcome(
            task.key,
            task.point,
            task.replicate,
            False,
            time.perf_counter() - started,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )
    finally:
        clear_mesa_caches(registries=_alone_in_process())
        gc.collect()
        _freeze_imports_once()


def _freeze_imports_once() -> None:
    """Move what exists after the first run (modules, their tables) out of the collector's view.

    A full ``gc.collect()`` walks every object in the process, ~80 ms with pandas, scipy and Mesa
    loaded: as long as a small run. Frozen objects are not walked, so the per-run collection only
    looks at what the run left behind. (The serial executor unfreezes when the sweep ends.)
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


def unfreeze() -> None:
    global _frozen
    gc.unfreeze()
    _frozen = False


def release_models() -> None:
    """Free the models this process has finished with: Mesa's class-level holders, then cycles.

    For callers outside ``execute`` that build models in a loop (the calibration's evaluations):
    without it every model and its agents stay reachable from ``Agent._ids``.
    """
    clear_mesa_caches(registries=_alone_in_process())
    gc.collect()


def clear_mesa_caches(registries: bool = True) -> int:
    """Drop what Mesa keeps at class level across models, so finished models can be freed.

    Two kinds: functools caches on Mesa functions and methods (``Cell.get_neighborhood``'s
    ``@cache`` keeps every model's cells alive), and class-level registries keyed by model
    (``Agent._ids``, a defaultdict of id counters per model, keeps every model and all its agents
    alive: about 3 MB per run of the default world). Found by walking Mesa's modules and the Agent
    subclasses rather than by name, so a Mesa upgrade that adds one is still covered.

    ``registries=False`` leaves the per-model registries alone: needed when other models may be
    running in this process at the same time (a multi-threaded dask worker), since dropping a live
    model's id counter would make it reuse ids.
    """
    import mesa

    caches, dicts = _mesa_holders(len(sys.modules), len(_subclasses(mesa.Agent)))
    for cache in caches:
        cache.cache_clear()
    cleared = len(caches)
    if registries:
        for holder in dicts:
            stale = [key for key in list(holder) if isinstance(key, mesa.Model)]
            for key in stale:
                del holder[key]
            cleared += len(stale)
    return cleared


@functools.lru_cache(maxsize=1)
def _mesa_holders(_modules: int, _agent_classes: int) -> tuple[tuple[Any, ...], tuple[dict, ...]]:
    """The caches and class-level dicts to clear; found again only when modules or Agent
    subclasses were added (the arguments), since walking them all costs more than a small run."""
    import mesa

    caches: list[Any] = []
    classes: list[type] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "mesa" or name.startswith("mesa.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                caches.append(value)
            elif isinstance(value, type):
                classes.append(value)
    classes.extend(_subclasses(mesa.Agent))
    dicts: list[dict] = []
    for cls in dict.fromkeys(classes):
        for value in list(vars(cls).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                caches.append(value)
            elif isinstance(value, dict):
                dicts.append(value)
    return tuple(dict.fromkeys(caches)), tuple({id(d): d for d in dicts}.values())


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _alone_in_process() -> bool:
    """False in a dask worker running several tasks at once in threads."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return True
    try:
        return distributed.get_worker().state.nthreads <= 1
    except (ValueError, AttributeError):  # not inside a dask worker
        return True


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except Exception:  # noqa: BLE001 (diagnostics only)
        return float("nan")


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
