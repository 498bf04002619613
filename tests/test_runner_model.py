"""End to end with the real model: executors agree bit for bit, and a SIGKILLed sweep resumes.

Kept small (short runs, few of them) so the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main as cli
from sim.model.digest import code_digest
from sim.runner.executors import ExecutorSpec
from sim.runner.plan import make_plan
from sim.runner.sweep import run_sweep

pytest.importorskip("sim.model")

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "experiments" / "smoke.yaml"
OUTPUTS = ("outcomes.parquet", "outcomes.csv", "steps.parquet")


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS if (out / name).exists()}


@pytest.fixture(scope="module")
def serial_smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke") / "serial"
    report = run_sweep(make_plan(SMOKE), out, ExecutorSpec("serial"), quiet=True)
    assert (report.succeeded, report.failed) == (8, 0)
    return out


def test_smoke_experiment_produces_the_documented_tables(serial_smoke: Path) -> None:
    table = pd.read_parquet(serial_smoke / "outcomes.parquet")
    assert len(table) == 8 and not table.failed.any()
    assert sorted(set(table.scenario)) == ["bottom_up", "top_down"]
    assert {"va_growth", "va_last_4", "share_min", "value_added"} <= set(table.columns)
    assert table.seed.is_unique
    steps = pd.read_parquet(serial_smoke / "steps.parquet")
    assert len(steps) == 8 * 9  # step 0 plus 8 policy quarters per run
    assert table.equals(
        pd.read_csv(serial_smoke / "outcomes.csv")[table.columns].astype(table.dtypes)
    )


@pytest.mark.parametrize("kind", ["process", "dask"])
def test_executors_give_a_bit_identical_table(
    serial_smoke: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / kind
    report = run_sweep(make_plan(SMOKE), out, ExecutorSpec(kind, workers=2), quiet=True)
    assert (report.succeeded, report.failed) == (8, 0)
    assert outputs(out) == outputs(serial_smoke)
    assert len(outputs(out)) == 3


def test_sigkill_midway_then_rerun_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    experiment = tmp_path / "resume.yaml"
    experiment.write_text(
        textwrap.dedent(
            """
            scenarios: [no_policy, bottom_up]
            set: {world.n_clusters: 30, world.n_regions: 4, run.burn_in: 4}
            vary: {policy.planning_quality: [0.3, 0.9]}
            replicates: 3
            master_seed: 3
            steps: 24
            keep: every_step
            summaries: {va_growth: {column: value_added, reduce: growth}}
            """
        )
    )
    # Everything in fresh processes, which read the model's code as it is on disk now; the test
    # skips if that code changes meanwhile (others may be editing it), since runs are keyed by it.
    version = code_digest.__wrapped__()  # type: ignore[attr-defined]
    reference = tmp_path / "reference"
    sweep_command = [sys.executable, "-m", "sim.cli", "sweep", str(experiment), "--quiet"]
    uninterrupted = sweep_command + ["--out", str(reference), "--executor", "serial"]
    done = subprocess.run(uninterrupted, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    out = tmp_path / "out"
    runs = out / "runs"
    command = sweep_command + ["--out", str(out), "--executor", "process", "--workers", "2"]
    sweep = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sweep.poll() is None:
        if runs.is_dir() and len(list(runs.glob("*.parquet"))) >= 3:
            break
        time.sleep(0.01)
    assert sweep.poll() is None, "the sweep ended before it could be killed"
    os.killpg(sweep.pid, signal.SIGKILL)  # the main process and its workers, as kill -9 would
    sweep.wait()
    written = len(list(runs.glob("*.parquet")))
    assert 3 <= written < 12
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert not (out / "outcomes.parquet").exists()

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if code_digest.__wrapped__() != version:  # type: ignore[attr-defined]
        pytest.skip("the model's code changed during the test (runs are keyed by it)")
    assert rerun.returncode == 0, rerun.stderr
    assert "already done, 0 failed" in rerun.stdout
    assert "12 runs" in rerun.stdout
    done_before = int(rerun.stdout.split(" already done")[0].rsplit(" ", 1)[1])
    assert done_before >= written
    assert outputs(out) == outputs(reference)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_cli_writes_to_results_named_after_the_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["sweep", str(SMOKE), "--executor", "serial", "--quiet"]) == 0
    assert "8 runs: 8 ran, 0 already done, 0 failed" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "results" / "smoke" / "manifest.json").read_text())
    assert manifest["executor"] == "serial" and manifest["counts"]["done"] == 8


def test_a_worker_keeps_no_model_alive_after_a_run(tmp_path: Path) -> None:
    """Memory stays flat over a long sweep: after each run nothing of its model survives."""
    import gc

    import mesa

    from sim.model.simulate import simulate
    from sim.runner.worker import RunTask, execute

    plan = make_plan(SMOKE)
    for run in plan.runs[:2]:
        point = plan.points[run.point]
        task = RunTask(run.key, run.point, run.replicate, run.seed, plan.scenario(point),
                       point.params, str(tmp_path), simulate)  # fmt: skip
        assert execute(task).ok
        gc.collect()
        assert not [o for o in gc.get_objects() if isinstance(o, mesa.Model)]
        assert not [o for o in gc.get_objects() if isinstance(o, mesa.Agent)]
