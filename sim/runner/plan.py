"""From an experiment file to run specs: every point's scenario is built and validated up front.

Validating all points before anything runs means a bad value anywhere in a long sweep is an
input error (exit 2, nothing written) rather than a failure discovered hours in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.runner.design import design_points, design_size
from sim.runner.experiment import Experiment, load_experiment, resolve_experiment_path
from sim.runner.model_version import model_version
from sim.runner.posterior import Posterior, read_posterior
from sim.runner.seeds import run_seed
from sim.scenario.errors import InputError, clip, shorten
from sim.scenario.files import (
    apply_overrides,
    build_scenario,
    load_raw,
    overrides_label,
    resolve_scenario_path,
)
from sim.scenario.schema import Scenario

MAX_POINTS = 100_000  # scenarios x design points: each is built and validated up front (~1 ms)
MAX_RUNS = 1_000_000  # points x replicates: the plan lists every run


@dataclass(frozen=True)
class BaseScenario:
    """One entry of ``scenarios:``, read (with ``extends`` and ``steps`` applied) but not varied."""

    entry: str
    path: Path
    raw: dict[str, Any]


@dataclass(frozen=True)
class Point:
    index: int
    base: int  # index into Plan.bases
    scenario: str  # the resolved scenario's name
    params: dict[str, Any]
    scenario_hash: str


@dataclass(frozen=True)
class RunSpec:
    key: str  # names the run's result file; see run_key
    point: int
    replicate: int
    seed: int
    draw: int | None = None  # row of the experiment's posterior this run applies, if any


@dataclass
class Plan:
    experiment: Experiment
    path: Path
    bases: list[BaseScenario]
    points: list[Point]
    runs: list[RunSpec] = field(default_factory=list)
    posterior: Posterior | None = None

    def scenario(self, point: Point) -> Scenario:
        """Rebuild a point's scenario (plans keep only hashes, so big sweeps stay small)."""
        return _build(self, self.bases[point.base], point.index, point.params)

    def run_params(self, run: RunSpec) -> dict[str, Any]:
        """The point's parameters on top of the run's posterior draw, if any."""
        point = self.points[run.point]
        if run.draw is None or self.posterior is None:
            return point.params
        return {**self.posterior.values[run.draw], **point.params}

    def run_scenario(self, run: RunSpec) -> Scenario:
        """The scenario one run executes: its point's, with its posterior draw applied."""
        point = self.points[run.point]
        if run.draw is None:
            return self.scenario(point)
        return _build(self, self.bases[point.base], point.index, self.run_params(run))


def run_key(
    scenario_hash: str,
    params: dict[str, Any],
    seed: int,
    model_version: str,
    outcomes: str = "standard",
) -> str:
    """Content key of a run: same scenario, parameters, seed, model version and run function
    (``outcomes``) -> same result."""
    payload = json.dumps(
        {
            "scenario": scenario_hash,
            "params": params,
            "seed": seed,
            "model": model_version,
            "outcomes": outcomes,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def make_plan(experiment_path: str | Path) -> Plan:
    """Read the experiment, expand its design, validate every point, and list the runs in order."""
    path = resolve_experiment_path(experiment_path)
    experiment = load_experiment(path)
    check_size(path, experiment)
    bases = [_read_base(path, i, entry, experiment) for i, entry in enumerate(experiment.scenarios)]
    plan = Plan(experiment=experiment, path=path, bases=bases, points=[])
    rows = design_points(experiment)
    for base_index, base in enumerate(bases):
        for params in rows:
            index = len(plan.points)
            scenario = _build(plan, base, index, params)
            plan.points.append(
                Point(index, base_index, scenario.name, params, scenario.content_hash())
            )
    if experiment.posterior is not None:
        plan.posterior = read_posterior(path.parent / experiment.posterior)
    version = model_version()
    for point in plan.points:
        row = point.index % len(rows)  # points run base by base over the same design rows
        for replicate in range(experiment.replicates):
            seed = run_seed(experiment.master_seed, point.index, replicate, experiment.seeds, row)
            draw = plan.posterior.draw(seed) if plan.posterior is not None else None
            spec = RunSpec("", point.index, replicate, seed, draw)
            params = plan.run_params(spec)
            key = run_key(point.scenario_hash, params, seed, version, experiment.outcomes)
            plan.runs.append(RunSpec(key, point.index, replicate, seed, draw))
    if plan.posterior is not None:  # every parameter set must fit every scenario: check now
        for draw in sorted({run.draw for run in plan.runs}):
            for first in {point.base: point for point in plan.points}.values():
                try:
                    plan.run_scenario(RunSpec("", first.index, 0, 0, draw))
                except InputError as exc:
                    raise InputError(
                        f"{path}: posterior: {plan.posterior.path} row {draw}: {exc}"
                    ) from None
    return plan


def check_size(path: Path, experiment: Experiment) -> None:
    """Refuse a design too large to plan, from the file's numbers alone (before building it)."""
    per_base = design_size(experiment)
    points = per_base * len(experiment.scenarios)
    runs = points * experiment.replicates
    key = "design.samples" if experiment.design.kind != "factorial" else "vary"
    if points > MAX_POINTS:
        raise InputError(
            f"{path}: {key}: the design gives {_count(points)} points ({len(experiment.scenarios)} "
            f"scenario(s) x {_count(per_base)}); the limit is {MAX_POINTS:,} per experiment "
            "(split it into several experiments)"
        )
    if runs > MAX_RUNS:
        raise InputError(
            f"{path}: replicates: {_count(points)} points x {experiment.replicates} replicates "
            f"give {_count(runs)} runs; the limit is {MAX_RUNS:,} per experiment"
        )


def _count(number: int) -> str:
    return f"{number:,}" if number < 10**15 else f"about 10^{len(str(number)) - 1}"


def _read_base(
    experiment_path: Path, index: int, entry: str, experiment: Experiment
) -> BaseScenario:
    resolved = resolve_scenario_path(entry, relative_to=experiment_path)
    try:
        found = resolved.is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        found = False
    if not found:
        raise InputError(
            f"{experiment_path}: scenarios.{index}: scenario file not found: {clip(entry, 120)} "
            f"(looked beside the experiment file and among the presets in scenarios/)"
        )
    try:
        raw = load_raw(resolved)
    except InputError as exc:
        raise InputError(f"{experiment_path}: scenarios.{index}: {exc}") from None
    fixed = dict(experiment.set)
    if experiment.steps is not None:
        fixed["run.steps"] = experiment.steps
    if fixed:
        raw = _override(raw, fixed, experiment_path, "set")
    return BaseScenario(entry=entry, path=resolved, raw=raw)


def _build(plan: Plan, base: BaseScenario, index: int, params: dict[str, Any]) -> Scenario:
    raw = _override(base.raw, params, plan.path, "vary") if params else base.raw
    shown = clip(", ".join(f"{k}={shorten(v)}" for k, v in params.items()), 200)
    source = f"{plan.path} (scenario {clip(base.entry, 80)}" + (
        f", point {index}: {shown})" if shown else ")"
    )
    scenario = build_scenario(raw, source)
    if scenario.name == "unnamed":
        scenario = scenario.model_copy(update={"name": base.path.stem})
    return scenario


def _override(
    raw: dict[str, Any], values: dict[str, Any], path: Path, section: str
) -> dict[str, Any]:
    try:
        return apply_overrides(raw, values)
    except InputError as exc:
        detail = str(exc).removeprefix(f"{overrides_label(values)} ")
        raise InputError(f"{path}: {section}: {detail}") from None
