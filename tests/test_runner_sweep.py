"""The sweep machinery with small deterministic fake models: storage, failures, resume, locking.

The fakes are module-level so spawned worker processes can import them by name (pytest puts this
folder on sys.path, and spawned children inherit it). End-to-end tests with the real model are in
test_runner_model.py.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.cli import main as cli
from sim.runner import store
from sim.runner.consolidate import reduce_column
from sim.runner.executors import ExecutorSpec
from sim.runner.experiment import Summary
from sim.runner.plan import make_plan
from sim.runner.store import SweepLocked, folder_lock
from sim.runner.sweep import run_sweep
from sim.runner.worker import clear_mesa_caches
from sim.scenario.errors import InputError
from sim.scenario.schema import Scenario

CRASH_DIR = "KLASTER_TEST_CRASH_ONCE_DIR"
STARTED_DIR = "KLASTER_TEST_STARTED_DIR"


def fake_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    """A deterministic stand-in for simulate(): outcomes depend on the seed and one parameter."""
    rng = np.random.default_rng(seed)
    steps = np.arange(scenario.run.steps + 1)
    value = (
        100
        * (1 + scenario.policy.planning_quality)
        * np.cumprod(1 + rng.normal(0.01, 0.02, steps.size))
    )
    aggregate = pd.DataFrame(
        {"step": steps, "value_added": value, "firms": rng.integers(50, 60, steps.size)}
    )
    return SimpleNamespace(
        aggregate=aggregate, summary={"value_added": float(value[-1]), "firms": 55.0}
    )


def failing_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    if scenario.policy.planning_quality >= 0.9:
        raise RuntimeError("fake failure: planning_quality 0.9 is rigged to fail")
    return fake_run(scenario, seed)


def crashing_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    """Kills its worker process: once for the first 0.9 run to get here, always for seed 0."""
    if scenario.policy.planning_quality >= 0.9:
        try:
            os.close(os.open(Path(os.environ[CRASH_DIR]) / "crashed", os.O_CREAT | os.O_EXCL))
            os._exit(9)
        except FileExistsError:
            pass
    return fake_run(scenario, seed)


def always_crashing_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    if scenario.name == "other" and scenario.policy.planning_quality >= 0.9:
        os._exit(9)
    return fake_run(scenario, seed)


def slow_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    """Announces its worker's pid, then takes long enough for the test to kill that worker."""
    (Path(os.environ[STARTED_DIR]) / f"{os.getpid()}-{seed}").touch()
    time.sleep(2.0)
    return fake_run(scenario, seed)


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text("name: base\n")
    (tmp_path / "other.yaml").write_text("name: other\nfirms: {markup: 0.3}\n")
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: fake
            scenarios: [base.yaml, other.yaml]
            vary:
              policy.planning_quality: [0.3, 0.9]
            replicates: 3
            master_seed: 5
            steps: 6
            keep: every_step
            summaries:
              va_growth: {column: value_added, reduce: growth}
              va_late: {column: value_added, reduce: mean_last_3}
            """
        )
    )
    return path


def sweep(experiment: Path, out: Path, kind: str = "serial", run_fn=fake_run, workers: int = 2):
    return run_sweep(
        make_plan(experiment), out, ExecutorSpec(kind, workers), run_fn=run_fn, quiet=True
    )


def files_of(out: Path) -> dict[str, bytes]:
    return {
        name: (out / name).read_bytes()
        for name in ("outcomes.parquet", "outcomes.csv", "steps.parquet")
    }


def test_sweep_writes_one_file_per_run_and_a_table_in_plan_order(
    experiment: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = sweep(experiment, out)
    assert (report.planned, report.succeeded, report.failed) == (12, 12, 0)
    assert len(list((out / "runs").glob("*.parquet"))) == 12
    table = pd.read_parquet(out / "outcomes.parquet")
    assert list(table.columns[:6]) == [
        "point",
        "replicate",
        "seed",
        "scenario",
        "policy.planning_quality",
        "run",
    ]
    assert list(zip(table.point, table.replicate, strict=True)) == [
        (p, r) for p in range(4) for r in range(3)
    ]
    assert table.scenario.tolist() == ["base"] * 6 + ["other"] * 6
    assert not table.failed.any()
    # named summaries are computed from each run's per-step table
    steps = pd.read_parquet(out / "steps.parquet")
    assert len(steps) == 12 * 7
    first = steps[(steps.point == 0) & (steps.replicate == 0)].value_added.to_numpy()
    assert table.va_growth[0] == pytest.approx(first[-1] / first[0] - 1)
    assert table.va_late[0] == pytest.approx(first[-3:].mean())
    assert table.value_added[0] == first[-1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {
        "planned": 12,
        "skipped": 0,
        "succeeded": 12,
        "failed": 0,
        "done": 12,
    }
    assert manifest["master_seed"] == 5 and len(manifest["experiment"]["sha256"]) == 64
    assert {"revision", "dirty"} <= set(manifest["git"]) and manifest["packages"]["numpy"]


def test_serial_and_process_executors_give_identical_bytes(
    experiment: Path, tmp_path: Path
) -> None:
    sweep(experiment, tmp_path / "serial")
    sweep(experiment, tmp_path / "process", kind="process")
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "process")


def test_failing_runs_are_isolated_recorded_and_reported(
    experiment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    report = sweep(experiment, out, run_fn=failing_run)
    assert (report.succeeded, report.failed) == (6, 6)
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert len(failures) == 6
    assert {f["params"]["policy.planning_quality"] for f in failures} == {0.9}
    assert all("fake failure" in f["error"] and "Traceback" in f["traceback"] for f in failures)
    plan = make_plan(experiment)
    assert {(f["point"], f["replicate"], f["seed"]) for f in failures} == {
        (r.point, r.replicate, r.seed)
        for r in plan.runs
        if plan.points[r.point].params["policy.planning_quality"] == 0.9
    }
    table = pd.read_parquet(out / "outcomes.parquet")
    failed = table[table.failed]
    assert len(failed) == 6 and failed.value_added.isna().all()
    assert table[~table.failed].value_added.notna().all()
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete_with_failures"

    # the command's exit status and summary line say how many failed
    monkeypatch.setattr(
        "sim.runner.sweep.default_run_function", lambda outcomes="standard": failing_run
    )
    code = cli(
        [
            "sweep",
            str(experiment),
            "--out",
            str(tmp_path / "cli"),
            "--executor",
            "serial",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "6 ran, 0 already done, 6 failed" in captured.out
    assert "failures.jsonl" in captured.err


def test_rerun_skips_finished_runs_and_completes_missing_ones(
    experiment: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    sweep(experiment, out)
    complete = files_of(out)
    again = sweep(experiment, out)
    assert (again.skipped, again.succeeded) == (12, 0)
    for path in sorted((out / "runs").glob("*.parquet"))[:5]:
        path.unlink()
    (out / "runs" / ".deadbeef.123.tmp").write_bytes(b"half a parquet file")  # left by a kill
    resumed = sweep(experiment, out)
    assert (resumed.skipped, resumed.succeeded) == (7, 5)
    assert not list((out / "runs").glob(".*.tmp"))
    assert files_of(out) == complete


def test_failed_runs_are_retried_by_a_rerun(experiment: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sweep(experiment, out, run_fn=failing_run)
    fixed = sweep(experiment, out, run_fn=fake_run)
    assert (fixed.skipped, fixed.succeeded, fixed.failed) == (6, 6, 0)
    assert (out / "failures.jsonl").read_text() == ""
    assert (
        files_of(out) == files_of(out)
        and not pd.read_parquet(out / "outcomes.parquet").failed.any()
    )


def test_a_killed_worker_process_does_not_lose_its_run(
    experiment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_dir = tmp_path / "crashes"
    crash_dir.mkdir()
    monkeypatch.setenv(CRASH_DIR, str(crash_dir))
    report = sweep(experiment, tmp_path / "out", kind="process", run_fn=crashing_run)
    assert (crash_dir / "crashed").exists()
    assert (report.succeeded, report.failed) == (12, 0)
    sweep(experiment, tmp_path / "clean")
    assert files_of(tmp_path / "out") == files_of(tmp_path / "clean")


def test_a_run_that_always_kills_its_worker_fails_alone(experiment: Path, tmp_path: Path) -> None:
    experiment.write_text(experiment.read_text().replace("replicates: 3", "replicates: 1"))
    out = tmp_path / "out"
    report = sweep(experiment, out, kind="process", run_fn=always_crashing_run)
    assert (report.succeeded, report.failed) == (3, 1)
    (failure,) = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failure["scenario"] == "other" and failure["params"] == {"policy.planning_quality": 0.9}
    assert "worker process died in each of 3 attempts" in failure["error"]


def test_a_second_sweep_on_a_locked_folder_refuses_clearly(
    experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock(out):
        with pytest.raises(SweepLocked, match="another sweep is writing to this folder"):
            sweep(experiment, out)
        code = cli(["sweep", str(experiment), "--out", str(out), "--executor", "serial", "--quiet"])
        assert code == 2
        assert f"pid {os.getpid()}" in capsys.readouterr().err
        assert not (out / "runs").exists()
    assert sweep(experiment, out).succeeded == 12  # released with the holder


def test_keep_final_writes_no_step_table(experiment: Path, tmp_path: Path) -> None:
    experiment.write_text(experiment.read_text().replace("keep: every_step", "keep: final"))
    out = tmp_path / "out"
    report = sweep(experiment, out)
    assert "steps" not in report.files and not (out / "steps.parquet").exists()
    assert "va_growth" in pd.read_parquet(out / "outcomes.parquet").columns


def test_a_summary_of_an_unknown_column_stops_with_the_valid_columns(
    experiment: Path, tmp_path: Path
) -> None:
    experiment.write_text(
        experiment.read_text().replace("column: value_added, reduce: growth", "column: va")
    )
    with pytest.raises(InputError, match=r"summaries\.va_growth\.column: 'va' .*value_added"):
        sweep(experiment, tmp_path / "out")


def test_reductions() -> None:
    steps = pd.DataFrame({"step": [2, 0, 1, 3], "x": [3.0, 1.0, 2.0, 6.0]})
    expected = {
        "final": 6.0, "initial": 1.0, "mean": 3.0, "min": 1.0, "max": 6.0, "sum": 12.0,
        "change": 5.0, "growth": 5.0, "mean_last_2": 4.5, "std": float(np.std([1, 2, 3, 6])),
    }  # fmt: skip
    as_arrow = pa.Table.from_pandas(steps, preserve_index=False)  # how consolidation reads runs
    for how, value in expected.items():
        summary = Summary(column="x", reduce=how)
        assert reduce_column(steps, summary) == pytest.approx(value), how
        assert reduce_column(as_arrow, summary) == reduce_column(steps, summary), how


def test_mesa_caches_and_model_registries_are_cleared_between_runs() -> None:
    import gc
    import weakref

    from mesa import Agent, Model
    from mesa.discrete_space import Cell, OrthogonalMooreGrid

    model = Model()
    Agent(model)  # Mesa 3.3 registers the model in Agent._ids, a class-level dict that outlives it
    grid = OrthogonalMooreGrid((4, 4), random=model.random)
    next(iter(grid.all_cells)).get_neighborhood(radius=2)
    assert Cell.get_neighborhood.cache_info().currsize > 0
    alive = weakref.ref(model)
    del model, grid
    gc.collect()
    if hasattr(Agent, "_ids"):  # Mesa 3.3 keeps every model alive; 3.5 no longer does
        assert alive() is not None
    assert clear_mesa_caches() > 0
    gc.collect()
    assert alive() is None
    assert Cell.get_neighborhood.cache_info().currsize == 0


@pytest.mark.slow
def test_a_dask_worker_killed_mid_task_does_not_lose_the_run(
    experiment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    started = tmp_path / "started"
    started.mkdir()
    monkeypatch.setenv(STARTED_DIR, str(started))
    experiment.write_text(experiment.read_text().replace("replicates: 3", "replicates: 1"))
    out = tmp_path / "out"
    result: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: result.update(report=sweep(experiment, out, kind="dask", run_fn=slow_run))
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not list(started.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = int(next(started.iterdir()).name.split("-")[0])
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=120)
    report = result["report"]
    assert (report.succeeded, report.failed) == (4, 0)  # type: ignore[attr-defined]
    assert len({p.name.split("-")[1] for p in started.iterdir()}) == 4
    assert len(list(started.iterdir())) > 4  # the killed run started again elsewhere
    sweep(experiment, tmp_path / "serial")
    assert files_of(out) == files_of(tmp_path / "serial")


def test_store_writes_are_atomic(tmp_path: Path) -> None:
    frame = pd.DataFrame({"step": [0, 1], "x": [1.0, 2.0]})
    store.write_run(tmp_path, "k", frame, {"summary": {"x": 2.0}}, {})
    assert store.read_record(tmp_path, "k") == {"summary": {"x": 2.0}}
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["k.parquet"]
