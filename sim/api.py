"""The Python API: what a notebook needs, without the command line or files on disk.

Scenarios come as a preset name, a file, a ``Scenario`` or a plain dict (which may ``extends`` a
preset); overrides as dotted keys (``overrides={"policy.planning_quality": 0.9}``) or flat
keywords (``planning_quality=0.9``). Everything returns pandas DataFrames::

    import sim

    model = sim.build("top_down", seed=1, planning_quality=0.9)
    model.step()
    sim.outcomes(model)             # one row per quarter, the aggregate outcomes
    sim.clusters(model)             # one row per cluster, at the last quarter
    runs = sim.compare(["no_policy", "top_down"], seeds=5)   # one row per run
    table = sim.sweep({"scenarios": ["top_down"], "vary": {...}})  # an experiment as a dict

Bad input raises ``sim.InputError`` whose message names what the caller wrote (``overrides=``,
the keyword, the dict) rather than the command line's ``--set``. A tooling module: it may use
runner, model and scenario; only the package root (lazily) and commands may import it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from sim import API
from sim.model.model import ClusterModel, resolve_scenario
from sim.model.results import RunResult
from sim.model.simulate import simulate
from sim.runner.compare import add_baseline_gains, summary_table
from sim.runner.tables import present
from sim.scenario.errors import InputError, describe_validation_error
from sim.scenario.files import build_scenario, deep_merge, load_raw, resolve_scenario_path
from sim.scenario.presets import PRESETS
from sim.scenario.schema import Scenario

ScenarioLike = Scenario | str | Path | Mapping[str, Any]

__all__ = list(API)  # the names `import sim` exports lazily (sim/__init__.py)


def scenario(
    source: ScenarioLike = "top_down",
    overrides: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> Scenario:
    """A validated Scenario.

    source: a preset name (``"top_down"``), a YAML file, a Scenario, or a dict of scenario keys
        (nested sections, as in a file; ``"extends": "top_down"`` starts from a preset)
    overrides: dotted keys to values, applied on top (``{"policy.planning_quality": 0.9}``)
    parameters: single parameters by flat name (``planning_quality=0.9``, ``n_designated=25``)
    """
    if isinstance(source, Mapping):
        source = _scenario_from_dict(source)
    return resolve_scenario(source, dict(overrides) if overrides else None, parameters)


def build(
    source: ScenarioLike = "top_down",
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> ClusterModel:
    """A ClusterModel at policy start (burn-in done), ready to ``step()``.

    source: see ``scenario``
    seed: the run's seed; None draws one (kept in ``model.seed``)
    overrides: dotted keys to values
    parameters: single parameters by flat name
    """
    return ClusterModel(scenario=scenario(source, overrides, **parameters), seed=seed)


def outcomes(model: ClusterModel) -> pd.DataFrame:
    """The aggregate outcomes, one row per quarter from policy start (``sim.model.outcomes``),
    as the written tables show them (counts as integers)."""
    return present(model.history(), "aggregate")


def clusters(model: ClusterModel, every_step: bool = False) -> pd.DataFrame:
    """Per-cluster outcomes: one row per cluster at the last quarter, or with
    ``every_step=True`` one row per (step, cluster); codes as labels, counts as integers, as
    the written tables show them."""
    table = model.cluster_history() if every_step else model.cluster_table()
    return present(table, "cluster", list(model.config.world.products))


def run(
    source: ScenarioLike = "top_down",
    *,
    seed: int = 0,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> RunResult:
    """One whole run: ``.aggregate`` (DataFrame, one row per quarter), ``.clusters`` (DataFrame,
    one row per quarter and cluster) and ``.summary`` (dict of the run's headline outcomes).

    source: see ``scenario``
    seed: the run's seed (the same seed gives the same run)
    steps: policy quarters (default: the scenario's run.steps)
    overrides: dotted keys to values
    parameters: single parameters by flat name
    """
    return simulate(scenario(source, overrides, **parameters), int(seed), steps)


def compare(
    sources: ScenarioLike | Iterable[ScenarioLike] = PRESETS,
    *,
    seeds: int | Iterable[int] = 10,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int = 1,
    **parameters: Any,
) -> pd.DataFrame:
    """Scenarios over the same seeds: one row per run (scenario, seed, the run summary), with
    gains over ``no_policy`` paired by seed when it is among them (``va_gain``, ...).

    sources: scenarios (names, files, Scenarios or dicts); default the four presets
    seeds: a count (seeds 0 .. N-1) or the seeds themselves
    steps: policy quarters (default: each scenario's run.steps)
    overrides: dotted keys to values, applied to every scenario
    workers: processes to run in (1: here, in this process)
    parameters: single parameters by flat name, applied to every scenario
    """
    if isinstance(sources, str | Path | Scenario | Mapping):
        sources = [sources]
    scenarios = [scenario(item, overrides, **parameters) for item in sources]
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    jobs = [(s, seed, steps) for s in scenarios for seed in seed_list]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            rows = list(pool.map(_summary_row, jobs))
    else:
        rows = [_summary_row(job) for job in jobs]
    return add_baseline_gains(pd.DataFrame(rows))


def interval_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Means over seeds with 95% intervals, per scenario and outcome (of ``compare``'s rows)."""
    return summary_table(runs)


def sweep(
    experiment: str | Path | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    executor: str = "serial",
    workers: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run an experiment (a file, or a dict with the keys of an experiment file,
    docs/sweeps.md) and return its outcomes: one row per run.

    experiment: an experiment file, or a dict of its keys (``scenarios``, ``vary``, ...)
    out: folder to keep the results in (and resume from); None keeps them only until return
    executor: "serial" (here), "process" or "dask"
    workers: parallel workers for process or dask
    progress: show a progress bar
    """
    from sim.runner.executors import ExecutorSpec, validate
    from sim.runner.plan import make_plan
    from sim.runner.sweep import run_sweep

    spec = ExecutorSpec(kind=executor, workers=workers)
    validate(spec)
    with tempfile.TemporaryDirectory(prefix="klaster-sweep-") as scratch:
        path, label = _experiment_file(experiment, Path(scratch))
        try:
            plan = make_plan(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), label)) from None
        folder = Path(out) if out is not None else Path(scratch) / "results"
        report = run_sweep(plan, folder, spec, quiet=not progress, command=["sim.api.sweep"])
        table = pd.read_parquet(report.files["outcomes"])
    return table


# ---- helpers ---------------------------------------------------------------------------------
def _scenario_from_dict(data: Mapping[str, Any]) -> Scenario:
    """Validate a scenario given as a dict; ``extends`` starts from a preset or file."""
    raw = dict(data)
    parent = raw.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str | Path):
            raise InputError(f"scenario dict: extends: expected a preset or file, got {parent!r}")
        parent_path = resolve_scenario_path(parent)
        if not parent_path.is_file():
            raise InputError(f"scenario dict: extends: no preset or file {parent!r}")
        raw = deep_merge(load_raw(parent_path), raw)
    built = build_scenario(raw, "scenario dict")
    if built.name == "unnamed" and parent is not None:
        built = built.model_copy(update={"name": Path(parent).stem})
    return built


def _experiment_file(experiment: str | Path | Mapping[str, Any], scratch: Path) -> tuple[Path, str]:
    """An experiment file to plan from, and how to name it in messages. A dict is validated
    first (messages then name the dict's keys), then written as YAML to ``scratch``."""
    if not isinstance(experiment, Mapping):
        return Path(experiment), str(experiment)
    from sim.runner.experiment import Experiment

    label = "sweep(experiment=...)"
    data = dict(experiment)
    try:
        Experiment.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(label, exc) from None
    name = str(data.get("name") or "experiment")
    data.setdefault("name", name)
    path = scratch / f"{name}.yaml"
    path.write_text(yaml.safe_dump(_plain(data), sort_keys=False), encoding="utf-8")
    return path, label


def _plain(value: Any) -> Any:
    """Dicts, lists and numbers YAML writes without tags (numpy scalars, tuples, paths)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _summary_row(job: tuple[Scenario, int, int | None]) -> dict[str, Any]:
    model_scenario, seed, steps = job
    result = simulate(model_scenario, seed, steps)
    return {"scenario": model_scenario.name, "seed": seed, **result.summary}
