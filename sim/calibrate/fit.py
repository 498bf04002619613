"""Run a calibration into a folder, resumably, and write what it found.

The folder holds pyabc's database (``abc.db``: every population, so a stopped calibration
continues where it stopped: ``abc.load``), and, rewritten after every population:

- ``posterior.parquet`` / ``.csv``: the last population's accepted parameter sets (dotted scenario
  keys), their weights, distances and statistics; experiments point at it (``posterior:``)
- ``parameters.csv``: each parameter's prior and posterior (median, 90% interval)
- ``fit.csv``: each target's band and the accepted sets' statistic (median, 90% interval, share
  in band)
- ``populations.csv``: tolerance, evaluations, acceptance rate and wall time of each population
- ``calibrated.yaml``: a scenario holding the best-fitting accepted set (smallest distance), which a
  preset can extend (``extends: calibrated.yaml``)
- ``manifest.json``: the calibration file and its hash, budget, status, environment

A folder holds one calibration file's run: another file (or an edited one) is refused, so nothing
is mixed or overwritten.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from sim.calibrate.config import Calibration, load_calibration
from sim.calibrate.smc import (
    BandDistance,
    Evaluation,
    dotted_key,
    make_sampler,
    observed_statistics,
    prior_distribution,
)
from sim.runner.executors import ExecutorSpec, open_executor
from sim.runner.manifest import environment, file_sha256, read_manifest, write_manifest
from sim.scenario.errors import EnvironmentFailure, InputError

# what pyabc's multicore sampler, a process pool or dask raise when a worker process is killed
WORKER_DEATHS = ("ProcessError", "BrokenProcessPool", "KilledWorker")


@dataclass
class CalibrationReport:
    out_dir: Path
    populations: int = 0
    evaluations: int = 0
    seconds: float = 0.0
    epsilon: float = math.nan
    stopped_because: str = ""
    files: dict[str, Path] = field(default_factory=dict)


def run_calibration(
    path: str | Path,
    out_dir: Path,
    executor: ExecutorSpec,
    quiet: bool = False,
    command: list[str] | None = None,
) -> CalibrationReport:
    """Calibrate (or continue calibrating) the file's parameters into ``out_dir``.

    path: the calibration file
    out_dir: results folder (created; an existing one must hold this file's calibration)
    executor: serial, process (local cores) or dask
    quiet: no progress bar
    command: recorded in the manifest
    """
    import pyabc

    path = Path(path)
    calibration, priors = load_calibration(path)
    digest = file_sha256(path)
    identity = calibration_identity(calibration)
    previous = read_manifest(out_dir)
    database = out_dir / "abc.db"
    resume = database.is_file()
    if resume and (previous or {}).get("calibration", {}).get("identity") != identity:
        raise InputError(
            f"{out_dir}: holds a calibration of other parameters, targets, seeds or scenarios "
            f"than {path}; expected the same ones (only budget may change to continue) or an "
            "empty folder (give another --out)"
        )
    if not resume and out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"{out_dir}: not empty and holds no calibration; expected a new folder")
    report = CalibrationReport(out_dir=out_dir)
    budget = calibration.budget
    with _quiet_pyabc(), open_executor(executor) as opened:
        out_dir.mkdir(parents=True, exist_ok=True)
        evaluation = Evaluation(calibration, priors)
        abc = pyabc.ABCSMC(
            evaluation,
            prior_distribution(priors),
            BandDistance(calibration),
            population_size=budget.particles,
            sampler=make_sampler(executor.kind, executor.resolved_workers(), opened.client),
        )
        url = f"sqlite:///{database.resolve()}"
        if resume:
            history = abc.load(url, int(previous["abc_run_id"]))
        else:
            history = abc.new(url, observed_statistics(calibration))
        manifest = _manifest(path, digest, calibration, priors, executor, command, history.id)
        manifest["calibration"]["identity"] = identity
        if resume:
            manifest["started"] = previous.get("started", manifest["started"])
        write_manifest(out_dir, manifest)
        started = time.perf_counter()
        status = "stopped"
        bar = tqdm(
            total=budget.populations,
            initial=min(history.n_populations, budget.populations),
            desc=f"calibrate {calibration.name}",
            unit="population",
            file=sys.stderr,
            disable=quiet,
            dynamic_ncols=True,
        )
        try:
            reason = _stop_reason(history, calibration, 0.0)
            if not reason:
                # pyabc's own run loop (ABCSMC.run), unrolled so the bar and the output files
                # follow each population
                t = abc.initialize_components_before_run(
                    minimum_epsilon=budget.minimum_epsilon,
                    max_nr_populations=budget.populations - history.n_populations,
                    min_acceptance_rate=budget.min_acceptance_rate,
                    max_total_nr_simulations=budget.max_evaluations,
                    max_walltime=timedelta(
                        seconds=max(budget.max_minutes * 60 - _wall_seconds(history), 1.0)
                    ),
                    min_eps_diff=0.0,
                )
                while True:
                    generation = _run_within_budget(abc, t, history, budget)
                    if not generation["successful"]:
                        reason = "evaluation budget or wall time ran out within a population"
                        break
                    populations = _populations(history)
                    last = populations.iloc[-1]
                    bar.set_postfix(
                        eps=f"{last['epsilon']:.3g}",
                        accepted=f"{last['acceptance_rate']:.0%}",
                        evaluations=int(history.total_nr_simulations),
                        refresh=False,
                    )
                    bar.update(1)
                    report.files = write_outputs(history, calibration, priors, evaluation, out_dir)
                    acceptance = float(generation["acceptance_rate"])
                    reason = _stop_reason(history, calibration, acceptance)
                    if abc.check_terminate(t=t, acceptance_rate=acceptance):
                        reason = reason or "pyabc's stopping rule"
                        break
                    t += 1
            report.stopped_because = reason
            status = "complete"
        except Exception as exc:
            if not _worker_died(exc):
                raise
            report.stopped_because = "a worker process died"
            raise EnvironmentFailure(
                f"a worker process died (likely out of memory: {type(exc).__name__}); the "
                f"{history.n_populations} population(s) finished so far are kept in {out_dir}; "
                "run the same command again to resume"
            ) from exc
        finally:
            bar.close()
            report.seconds = time.perf_counter() - started
            if history.n_populations:
                populations = _populations(history)
                report.populations = len(populations)
                report.evaluations = int(history.total_nr_simulations)
                report.epsilon = float(populations["epsilon"].iloc[-1])
                if not report.files:
                    report.files = write_outputs(history, calibration, priors, evaluation, out_dir)
            manifest.update(
                {
                    "status": status,
                    "stopped_because": report.stopped_because,
                    "finished": _now(),
                    "populations": report.populations,
                    "evaluations": report.evaluations,
                    "epsilon": report.epsilon,
                    "wall_seconds": round(_wall_seconds(history), 1),
                    "seconds_per_evaluation": round(
                        _wall_seconds(history) / max(report.evaluations, 1), 3
                    ),
                    "core_seconds_per_evaluation": round(
                        _wall_seconds(history)
                        * executor.resolved_workers()
                        / max(report.evaluations, 1),
                        3,
                    ),
                    "files": {k: str(v.name) for k, v in report.files.items()},
                }
            )
            write_manifest(out_dir, manifest)
    return report


def _run_within_budget(abc, t: int, history, budget) -> dict:
    """One population, stopped within it once the evaluation budget is spent.

    pyabc caps a population's evaluations at ``particles / min_acceptance_rate`` only; its total
    budget (``max_total_nr_simulations``) is checked between populations, so a population with a
    low acceptance rate can overrun it (the default calibration's fifth population took 1,875
    evaluations with 1,135 left). The cap is therefore lowered to what is left for this
    population and restored for pyabc's own stopping rule.
    """
    left = max(budget.max_evaluations - int(history.total_nr_simulations), 1)
    floor = abc.min_acceptance_rate
    abc.min_acceptance_rate = max(floor, budget.particles / left)
    try:
        return abc.run_generation(t=t)
    finally:
        abc.min_acceptance_rate = floor


def _worker_died(exc: BaseException) -> bool:
    """A worker was killed (often by the OOM killer) or memory ran out: the machine, not a bug."""
    return isinstance(exc, MemoryError) or type(exc).__name__ in WORKER_DEATHS


def calibration_identity(calibration: Calibration) -> str:
    """Hash of what the accepted sets depend on: the file but its budget and validation settings
    (raising the budget continues a calibration instead of starting another), and the model's
    code (the model version)."""
    import hashlib
    import json

    from sim.runner.model_version import model_version

    kept = calibration.model_dump(mode="json", exclude={"budget", "validation", "description"})
    kept["model"] = model_version()
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stop_reason(history, calibration: Calibration, acceptance: float) -> str:
    """Why to stop now ('' to go on): the budget or the tolerance says so."""
    budget = calibration.budget
    if not history.n_populations:
        return ""
    populations = _populations(history)
    if len(populations) >= budget.populations:
        return f"{budget.populations} populations done"
    if history.total_nr_simulations >= budget.max_evaluations:
        return f"{budget.max_evaluations} evaluations reached"
    if _wall_seconds(history) >= budget.max_minutes * 60:
        return f"{budget.max_minutes:g} minutes spent"
    if populations["epsilon"].iloc[-1] <= budget.minimum_epsilon:
        return "tolerance reached: every accepted set within the target bands"
    if 0 < acceptance < budget.min_acceptance_rate:
        return f"acceptance rate below {budget.min_acceptance_rate:g}"
    return ""


def _populations(history) -> pd.DataFrame:
    frame = history.get_all_populations()
    frame = frame[frame["t"] >= 0].sort_values("t").reset_index(drop=True)
    frame = frame.rename(columns={"samples": "evaluations"})
    frame["acceptance_rate"] = frame["particles"] / frame["evaluations"].clip(lower=1)
    return frame


def _wall_seconds(history) -> float:
    if not history.n_populations:
        return 0.0
    frame = history.get_all_populations()
    return float(frame["wall_time"].fillna(0).sum())


def weighted_quantiles(values, weights, quantiles) -> np.ndarray:
    """Quantiles of a weighted sample (the accepted sets carry importance weights)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = np.isfinite(values)
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return np.full(len(quantiles), np.nan)
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(quantiles, cumulative, values)


def posterior_table(history, evaluation: Evaluation) -> pd.DataFrame:
    """The last population: one row per accepted set, scenario keys as columns."""
    population = history.get_population()
    rows = []
    for particle in population.particles:
        row: dict[str, Any] = evaluation.values(particle.parameter)
        row["weight"] = float(particle.weight)
        row["distance"] = float(particle.distance)
        row.update({f"stat:{k}": float(v) for k, v in particle.sum_stat.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame


def write_outputs(
    history,
    calibration: Calibration,
    priors: dict[str, tuple[float, float, bool]],
    evaluation: Evaluation,
    out_dir: Path,
) -> dict[str, Path]:
    """Posterior, parameter and target tables, populations, the calibrated scenario."""
    posterior = posterior_table(history, evaluation)
    weights = posterior["weight"].to_numpy()
    files: dict[str, Path] = {}

    def save(name: str, frame: pd.DataFrame, parquet: bool = False) -> None:
        target = out_dir / f"{name}.csv"
        _atomic(target, lambda p: frame.to_csv(p, index=False))
        files[name] = target
        if parquet:
            _atomic(out_dir / f"{name}.parquet", lambda p: frame.to_parquet(p, index=False))
            files[f"{name}.parquet"] = out_dir / f"{name}.parquet"

    save("posterior", posterior, parquet=True)
    parameters = []
    for key, (low, high, _) in priors.items():
        q05, q50, q95 = weighted_quantiles(posterior[key], weights, [0.05, 0.5, 0.95])
        source = calibration.parameters[key].source if calibration.parameters[key] else ""
        parameters.append(
            {
                "parameter": key,
                "prior_low": low,
                "prior_high": high,
                "posterior_median": q50,
                "posterior_q05": q05,
                "posterior_q95": q95,
                "prior_source": source or "schema bounds",
            }
        )
    save("parameters", pd.DataFrame(parameters))
    fit = []
    for name, target in calibration.targets.items():
        column = posterior[f"stat:{calibration.statistic_of(name)}"]
        q05, q50, q95 = weighted_quantiles(column, weights, [0.05, 0.5, 0.95])
        low, high = target.band
        inside = ((column >= low) & (column <= high)).to_numpy()
        fit.append(
            {
                "target": name,
                "band": target.text(),
                "median": q50,
                "q05": q05,
                "q95": q95,
                "share_in_band": float(weights[inside].sum()),
                "median_in_band": bool(low <= q50 <= high),
                "source": target.source,
            }
        )
    save("fit", pd.DataFrame(fit))
    save("populations", _populations(history))
    files["scenario"] = write_calibrated_scenario(
        out_dir / "calibrated.yaml", calibration, priors, posterior
    )
    return files


def best_set(posterior: pd.DataFrame) -> int:
    """Row of the accepted set that met the targets most closely (smallest distance; ties go to
    the larger weight).

    Not the set nearest the posterior median: in 13 dimensions of a population that has not
    converged, the median of each parameter need not be a good fit together (the default
    calibration's median set validated at 12 of 19 targets on fresh seeds, its best set at 14).
    """
    order = np.lexsort((-posterior["weight"].to_numpy(), posterior["distance"].to_numpy()))
    return int(order[0])


def write_calibrated_scenario(
    target: Path,
    calibration: Calibration,
    priors: dict[str, tuple[float, float, bool]],
    posterior: pd.DataFrame,
    row: int | None = None,
    how: str = "the accepted parameter set that met the targets most closely",
) -> Path:
    """A scenario file with one accepted set (the best-fitting one unless ``row`` is given):
    presets can ``extends:`` it.

    row: the posterior row to write (default: ``best_set``)
    how: how the set was chosen, for the file's header
    """
    row = posterior.iloc[best_set(posterior) if row is None else row]
    nested: dict[str, Any] = {}
    for key in priors:
        node = nested
        *sections, leaf = key.split(".")
        for section in sections:
            node = node.setdefault(section, {})
        value = row[key]
        node[leaf] = int(value) if priors[key][2] else float(round(float(value), 6))
    header = (
        f"# Calibrated by `klaster calibrate` from {calibration.name} on {_now()}:\n"
        f"# {how}\n"
        "# (posterior.parquet or .csv holds every accepted set; an experiment's\n"
        "# `posterior:` runs over them). Every\n"
        "# other key keeps its schema default. A preset can start from it with\n"
        "# `extends: calibrated.yaml`.\n"
    )
    text = header + yaml.safe_dump(nested, sort_keys=False, default_flow_style=False)
    _atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
    return target


def _atomic(target: Path, write) -> None:
    temp = target.with_name(f".{target.name}.tmp")
    write(temp)
    temp.replace(target)


@contextlib.contextmanager
def _quiet_pyabc():
    """pyabc logs every population at INFO; the progress bar says what matters."""
    import logging

    loggers = [logging.getLogger(name) for name in ("ABC", "Epsilon", "Distance", "Sampler")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest(
    path: Path,
    digest: str,
    calibration: Calibration,
    priors: dict[str, tuple[float, float, bool]],
    executor: ExecutorSpec,
    command: list[str] | None,
    run_id: int,
) -> dict[str, Any]:
    return {
        "status": "running",
        "calibration": {
            "name": calibration.name,
            "file": str(path),
            "sha256": digest,
            "settings": calibration.model_dump(mode="json", exclude_none=True),
        },
        "priors": {k: {"low": lo, "high": hi, "integer": i} for k, (lo, hi, i) in priors.items()},
        "abc_run_id": run_id,
        "sampler": executor.describe(),
        "command": command or [],
        "started": _now(),
        "environment": environment(),
    }


__all__ = ["CalibrationReport", "dotted_key", "run_calibration", "weighted_quantiles"]
