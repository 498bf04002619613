"""The sweep loop: submit the runs not yet on disk, record what comes back, consolidate.

A bounded number of runs is in flight at a time (about two per worker slot), so a sweep of a
million runs holds a few futures, not a million, and a crashed process pool loses only those.
Results are written by the workers; this loop sees only small outcome records.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.runner import folders, store
from sim.runner.consolidate import check_summaries, consolidate
from sim.runner.executors import ExecutorSpec, open_executor
from sim.runner.manifest import (
    environment,
    file_sha256,
    finish_manifest,
    read_manifest,
    write_manifest,
)
from sim.runner.plan import Plan, RunSpec
from sim.runner.worker import RunFunction, RunOutcome, RunTask, execute
from sim.scenario.errors import EnvironmentFailure, InputError

MAX_ATTEMPTS = 3  # a run in flight when a worker process dies is retried this often


@dataclass
class SweepReport:
    out_dir: Path
    planned: int
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)
    peak_worker_rss_mb: float = 0.0
    environment_error: str = ""  # what stopped the sweep if the machine failed (disk, rights)

    @property
    def done(self) -> int:
        return self.skipped + self.succeeded


def default_run_function(outcomes: str = "standard") -> RunFunction:
    """The model's run function that an experiment's ``outcomes`` key names."""
    from sim.model.simulate import RUN_FUNCTIONS

    return RUN_FUNCTIONS[outcomes]


def run_sweep(
    plan: Plan,
    out_dir: Path,
    executor: ExecutorSpec,
    run_fn: RunFunction | None = None,
    quiet: bool = False,
    command: list[str] | None = None,
    overwrite: bool = False,
) -> SweepReport:
    """Run every run of ``plan`` not already in ``out_dir``; the folder is locked meanwhile.

    The folder is checked (``folders.check_target``: not a foreign or other-kind folder, not
    held by another process) and the executor started before anything is written, so a refused
    folder or an unreachable scheduler leaves no trace. A folder this call created is removed
    again if bad input stops the sweep; if the machine stops it (disk full, permissions), the
    runs already written stay for a rerun and ``EnvironmentFailure`` is raised.
    """
    run_fn = run_fn or default_run_function(plan.experiment.outcomes)
    report = SweepReport(out_dir=out_dir, planned=len(plan.runs))
    folders.check_target(out_dir, "sweep", overwrite)
    created = not out_dir.exists()
    try:
        _sweep(plan, out_dir, executor, run_fn, quiet, command, overwrite, report)
    except InputError:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    except OSError as exc:
        _remove_if_no_run(out_dir, created)
        raise folders.os_error(exc, out_dir) from None
    if report.environment_error:
        _remove_if_no_run(out_dir, created)
        raise EnvironmentFailure(
            f"{report.environment_error}; the sweep stopped ({report.done} of {report.planned} "
            "runs are done and kept; rerun the same command to continue)"
        )
    return report


def _remove_if_no_run(out_dir: Path, created: bool) -> None:
    """A folder this sweep created and the machine stopped before any run was kept: remove it
    (it holds only bookkeeping). Runs already written are kept for a rerun."""
    if created and not any(store.runs_dir(out_dir).glob("*.parquet")):
        shutil.rmtree(out_dir, ignore_errors=True)


def _sweep(
    plan: Plan,
    out_dir: Path,
    executor: ExecutorSpec,
    run_fn: RunFunction,
    quiet: bool,
    command: list[str] | None,
    overwrite: bool,
    report: SweepReport,
) -> None:
    anything_to_do = any(not store.is_done(out_dir, run.key) for run in plan.runs)
    with contextlib.ExitStack() as stack:
        opened = stack.enter_context(open_executor(executor)) if anything_to_do else None
        out_dir.mkdir(parents=True, exist_ok=True)
        stack.enter_context(store.folder_lock(out_dir))
        folders.check_target(out_dir, "sweep", overwrite, locked=True)
        folders.write_marker(out_dir, "sweep")
        _warn_if_other_experiment(plan, out_dir, quiet)
        store.clean_temp_files(out_dir)
        failures = store.FailureLog(out_dir)
        todo = [run for run in plan.runs if not store.is_done(out_dir, run.key)]
        report.skipped = len(plan.runs) - len(todo)
        manifest = _manifest_start(plan, executor, command, report)
        write_manifest(out_dir, manifest, reserve=True)
        started = time.perf_counter()
        status = "stopped"  # interrupted, or stopped by an error
        error = ""
        try:
            if todo:
                if opened is None:  # run files vanished since the check above
                    opened = stack.enter_context(open_executor(executor))
                if opened.dashboard and not quiet:
                    print(f"dask dashboard: {opened.dashboard}", file=sys.stderr)
                _drive(plan, out_dir, todo, opened, run_fn, failures, report, quiet)
            elif not quiet:
                print(f"all {report.skipped} runs already done in {out_dir}", file=sys.stderr)
            if report.environment_error:
                error = report.environment_error
            else:
                report.files = consolidate(plan, out_dir)
                status = "complete" if report.failed == 0 else "complete_with_failures"
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            report.seconds = time.perf_counter() - started
            manifest.update(_manifest_end(status, report))
            if error:
                manifest["error"] = error
            with contextlib.suppress(OSError):  # the original error, if any, matters more
                finish_manifest(out_dir, manifest)


def _drive(
    plan: Plan,
    out_dir: Path,
    todo: list[RunSpec],
    opened: Any,
    run_fn: RunFunction,
    failures: store.FailureLog,
    report: SweepReport,
    quiet: bool,
) -> None:
    queue: deque[RunSpec] = deque(todo)
    # Runs in flight when a worker process died are rerun one at a time (alone in the pool), so a
    # crash is pinned on the run that causes it: only a run that kills its worker while alone is
    # charged, and it fails after MAX_ATTEMPTS such crashes. Bystanders lose nothing.
    suspects: deque[tuple[RunSpec, int]] = deque()
    pending: dict[Future, tuple[RunSpec, int, bool, Executor]] = {}  # run, crashes, alone, pool
    executor: Executor = opened.executor
    summaries_checked = False
    bar = tqdm(
        total=report.planned,
        initial=report.skipped,
        desc=plan.experiment.name,
        unit="run",
        file=sys.stderr,
        disable=quiet,
        dynamic_ncols=True,
        smoothing=0.05,
    )
    bar.set_postfix(done=report.done, failed=0, refresh=False)

    def submit(run: RunSpec, crashes: int, alone: bool) -> None:
        future = executor.submit(execute, _task(plan, out_dir, run, run_fn))
        pending[future] = (run, crashes, alone, executor)

    try:
        while queue or suspects or pending:
            if suspects:
                if not pending:
                    submit(*suspects.popleft(), alone=True)
            else:
                while queue and len(pending) < 2 * max(1, opened.slots()):
                    submit(queue.popleft(), 0, alone=False)
            if report.environment_error:  # the machine failed: submit nothing more
                queue.clear()
                suspects.clear()
                if not pending:
                    break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                run, crashes, alone, used = pending.pop(future)
                attempts = crashes + 1
                try:
                    outcome: RunOutcome = future.result()
                except BrokenProcessPool:
                    # a worker process died (killed, out of memory): every run in flight is lost
                    if used is executor and opened.restart is not None:
                        executor = opened.restart()
                    crashes += int(alone)
                    if crashes < MAX_ATTEMPTS:
                        suspects.append((run, crashes))
                        continue
                    outcome = _lost(run, f"its worker process died in each of {crashes} attempts")
                except Exception as exc:  # noqa: BLE001 (e.g. dask KilledWorker after retries)
                    outcome = _lost(run, f"{type(exc).__name__}: {exc}")
                if outcome.environment:
                    report.environment_error = report.environment_error or outcome.environment
                    continue
                if outcome.ok:
                    report.succeeded += 1
                    report.peak_worker_rss_mb = max(report.peak_worker_rss_mb, outcome.peak_rss_mb)
                    if not summaries_checked and plan.experiment.summaries:
                        check_summaries(plan, store.step_columns(out_dir, run.key))
                        summaries_checked = True
                else:
                    report.failed += 1
                    failures.add(_failure_entry(plan, run, outcome, attempts))
                bar.set_postfix(done=report.done, failed=report.failed, refresh=False)
                bar.update(1)
    finally:
        bar.close()


def _task(plan: Plan, out_dir: Path, run: RunSpec, run_fn: RunFunction) -> RunTask:
    return RunTask(
        key=run.key,
        point=run.point,
        replicate=run.replicate,
        seed=run.seed,
        scenario=plan.run_scenario(run),
        params=plan.run_params(run),
        out_dir=str(out_dir),
        run_fn=run_fn,
    )


def _lost(run: RunSpec, error: str) -> RunOutcome:
    return RunOutcome(run.key, run.point, run.replicate, False, 0.0, error=error)


def _failure_entry(plan: Plan, run: RunSpec, outcome: RunOutcome, attempt: int) -> dict[str, Any]:
    point = plan.points[run.point]
    return {
        "run": run.key,
        "point": run.point,
        "replicate": run.replicate,
        "seed": run.seed,
        "scenario": point.scenario,
        "params": point.params,
        "error": outcome.error,
        "traceback": outcome.traceback,
        "attempts": attempt,
    }


def _warn_if_other_experiment(plan: Plan, out_dir: Path, quiet: bool) -> None:
    previous = read_manifest(out_dir)
    digest = file_sha256(plan.path)
    if (
        previous
        and previous.get("experiment", {}).get("sha256") not in (None, digest)
        and not quiet
    ):
        print(
            f"note: {out_dir} holds results of another version of the experiment file; runs are "
            "keyed by content, so only runs matching this file are reused",
            file=sys.stderr,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest_start(
    plan: Plan, executor: ExecutorSpec, command: list[str] | None, report: SweepReport
) -> dict[str, Any]:
    experiment = plan.experiment
    return {
        "status": "running",
        "experiment": {
            "name": experiment.name,
            "file": str(plan.path),
            "sha256": file_sha256(plan.path),
            "settings": experiment.model_dump(mode="json", exclude_none=True),
        },
        "master_seed": experiment.master_seed,
        "design": {
            "kind": experiment.design.kind,
            "factors": list(experiment.vary),
            "scenarios": [base.entry for base in plan.bases],
            "points": len(plan.points),
            "replicates": experiment.replicates,
            "seeds": experiment.seeds,
            "runs": len(plan.runs),
        },
        "command": command if command is not None else sys.argv,
        "executor": executor.kind,
        "workers": executor.resolved_workers(),
        "scheduler": executor.scheduler,
        **environment(),
        "started": _now(),
        "finished": None,
        "counts": {"planned": report.planned, "skipped": report.skipped},
    }


def _manifest_end(status: str, report: SweepReport) -> dict[str, Any]:
    return {
        "status": status,
        "finished": _now(),
        "seconds": round(report.seconds, 3),
        "counts": {
            "planned": report.planned,
            "skipped": report.skipped,
            "succeeded": report.succeeded,
            "failed": report.failed,
            "done": report.done,
        },
        "peak_worker_rss_mb": round(report.peak_worker_rss_mb, 1),
        "outputs": {name: path.name for name, path in report.files.items()},
    }
