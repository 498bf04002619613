"""Calibration machinery: file checks, the band distance, recovery of an identifiable parameter,
outputs that round-trip into scenarios and experiments, resuming, and validate-patterns' verdict."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibrate.config import load_calibration
from sim.calibrate.patterns import STATISTICS
from sim.calibrate.smc import BandDistance, evaluation_seeds
from sim.cli import main as klaster
from sim.scenario.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "calibration" / "smoke.yaml"
SMALL_WORLD = (
    "set: {world.n_clusters: 12, world.cluster_size_median: 10}\nsteps: 16\nshock_step: 6\n"
)


def _file(tmp_path: Path, body: str, name: str = "cal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body if body.startswith("set:") else textwrap.dedent(body), encoding="utf-8")
    return path


def test_the_shipped_files_are_valid_and_take_priors_from_the_schema() -> None:
    calibration, priors = load_calibration(ROOT / "calibration" / "default.yaml")
    assert priors["market.potential_opportunity_correlation"] == (-1.0, 1.0, False)  # schema
    assert priors["firms.exit_patience"][2]  # a whole-number parameter
    assert calibration.validation.seeds >= 32
    # every stylized fact of the brief (1-7) and both historical figures have a target
    assert _facts(calibration) == {s.fact for s in STATISTICS.values()}
    assert len(_facts(calibration)) == 9
    assert all(t.source for t in calibration.targets.values())
    load_calibration(SMOKE)


def _facts(calibration) -> set[str]:
    return {STATISTICS[calibration.statistic_of(name)].fact for name in calibration.targets}


T = "targets: {takeup_rate: {high: 0.5, scale: 1, source: x}}"
P = "parameters: {market.volatility: {}}"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (f"{P}\ntargets: {{no_such: {{low: 0, high: 1, source: x}}}}", "unknown statistic"),
        (f"{P}\ntargets: {{takeup_rate: {{high: 0.5, source: x}}}}", "needs scale"),
        (f"parameters: {{policy.unspent: {{}}}}\n{T}", "policy.unspent: expected a numeric"),
        (f"parameters: {{market.volatility: {{low: 0, high: 0.9}}}}\n{T}", "market.volatility"),
        (f"{P}\ntargets: {{takeup_rate: {{high: 0.5, scale: 1}}}}", "source"),
        (f"{P}\nbudgte: {{}}\n{T}", "budgte"),
    ],
)
def test_a_bad_calibration_file_names_file_and_key(tmp_path: Path, body: str, key: str) -> None:
    path = _file(tmp_path, body)
    with pytest.raises(InputError, match=key) as caught:
        load_calibration(path)
    assert str(path) in str(caught.value)


def test_bad_input_exits_2_with_one_message_and_writes_nothing(tmp_path: Path, capsys) -> None:
    path = _file(tmp_path, "parameters: {market.volatility: {}}\ntargets: {}\n")
    out = tmp_path / "out"
    assert klaster(["calibrate", str(path), "--out", str(out)]) == 2
    assert klaster(["validate-patterns", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "targets" in err and "Traceback" not in err
    assert not out.exists()


def test_band_distance_is_zero_inside_every_band_and_counts_misses_in_scales(
    tmp_path: Path,
) -> None:
    calibration, _ = load_calibration(
        _file(
            tmp_path,
            """
            parameters: {market.volatility: {}}
            targets:
              takeup_rate: {high: 0.5, scale: 0.1, source: x}
              small_firm_share: {value: 0.9, tolerance: 0.05, source: x}
            """,
        )
    )
    distance = BandDistance(calibration)
    assert distance({"takeup_rate": 0.3, "small_firm_share": 0.88}, {}) == 0
    # 0.2 above the band in scales of 0.1: a miss of 2 in one of two equally weighted targets
    assert math.isclose(distance({"takeup_rate": 0.7, "small_firm_share": 0.9}, {}), math.sqrt(2))
    assert distance({"takeup_rate": float("nan"), "small_firm_share": 0.9}, {}) > 5


def test_evaluation_seeds_follow_the_parameter_values_only() -> None:
    a = evaluation_seeds(13, {"x": 0.1, "y": 2}, 3)
    assert a == evaluation_seeds(13, {"y": 2, "x": 0.1}, 3) and len(set(a)) == 3
    assert a != evaluation_seeds(13, {"x": 0.2, "y": 2}, 3)
    assert a != evaluation_seeds(14, {"x": 0.1, "y": 2}, 3)


def test_a_calibration_recovers_a_parameter_its_target_identifies(tmp_path: Path) -> None:
    """The share of firms below 20 workers pins the median firm size: about 0.6 needs a median
    of roughly 15-25 workers in this world at the calibrated presets (12-16 at the schema's
    defaults, where firms grow less); the prior spans 2-32."""
    from sim.calibrate.fit import run_calibration, weighted_quantiles
    from sim.runner.executors import ExecutorSpec

    path = _file(
        tmp_path,
        SMALL_WORLD
        + textwrap.dedent(
            """
        parameters: {world.workers_median: {low: 2, high: 32, source: test}}
        targets: {small_firm_share: {value: 0.6, tolerance: 0.04, source: test}}
        seeds_per_evaluation: 1
        budget: {particles: 16, populations: 3, max_evaluations: 400}
        """
        ),
    )
    np.random.seed(7)  # pyabc proposes from numpy's global generator (one process: reproducible)
    report = run_calibration(path, tmp_path / "out", ExecutorSpec("serial"), quiet=True)
    posterior = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    low, median, high = weighted_quantiles(
        posterior["world.workers_median"], posterior["weight"], [0.05, 0.5, 0.95]
    )
    assert 12 <= median <= 28, median
    assert high - low < 0.5 * (32 - 2)  # the data narrowed the prior
    fit = pd.read_csv(tmp_path / "out" / "fit.csv")
    assert bool(fit.loc[0, "median_in_band"])
    assert report.populations == 3


def test_smoke_calibration_outputs_round_trip_into_scenarios_and_experiments(
    tmp_path: Path, capsys
) -> None:
    from sim.runner.plan import make_plan
    from sim.scenario.files import load_scenario

    out = tmp_path / "out"
    np.random.seed(3)
    code = klaster(["calibrate", str(SMOKE), "--out", str(out), "--executor", "serial", "--quiet"])
    assert code == 0, capsys.readouterr().err
    for name in ("posterior.parquet", "posterior.csv", "parameters.csv", "fit.csv",
                 "populations.csv", "calibrated.yaml", "manifest.json", "abc.db",
                 "summary.md"):  # fmt: skip
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["evaluations"] > 0
    summary = (out / "summary.md").read_text()
    assert "firms.trader_commission" in summary and "small_producer_va_share" in summary
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 6 and math.isclose(posterior["weight"].sum(), 1)
    parameters = pd.read_csv(out / "parameters.csv")
    assert set(parameters["parameter"]) == {"firms.trader_commission", "instruments.takeup_cost"}
    # the calibrated scenario holds one accepted set, and a preset extending it keeps it
    calibrated = yaml.safe_load((out / "calibrated.yaml").read_text())
    row = posterior[
        np.isclose(posterior["firms.trader_commission"], calibrated["firms"]["trader_commission"])
    ]
    assert len(row) == 1
    preset = tmp_path / "preset.yaml"
    preset.write_text(
        f"extends: {out / 'calibrated.yaml'}\nname: calibrated_top_down\n"
        "policy: {budget_per_quarter: 400, selected_clusters: 25}\n"
    )
    scenario = load_scenario(preset)
    assert math.isclose(scenario.firms.trader_commission, calibrated["firms"]["trader_commission"])
    assert math.isclose(scenario.instruments.takeup_cost, calibrated["instruments"]["takeup_cost"])
    assert scenario.policy.selected_clusters == 25
    # an experiment runs over the posterior sample
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"scenarios: [top_down]\nreplicates: 4\nseeds: common\nposterior: {out}/posterior.parquet\n"
    )
    plan = make_plan(experiment)
    for run in plan.runs:
        chosen = posterior.iloc[run.draw]
        assert plan.run_scenario(run).instruments.takeup_cost == chosen["instruments.takeup_cost"]


def test_a_stopped_calibration_continues_and_another_file_is_refused(tmp_path: Path) -> None:
    from sim.calibrate.fit import run_calibration
    from sim.runner.executors import ExecutorSpec

    text = SMOKE.read_text()
    one = _file(tmp_path, text.replace("populations: 2", "populations: 1"), "one.yaml")
    two = _file(tmp_path, text, "two.yaml")
    out = tmp_path / "out"
    np.random.seed(5)
    run_calibration(one, out, ExecutorSpec("serial"), quiet=True)
    first = pd.read_csv(out / "populations.csv")
    assert len(first) == 1
    report = run_calibration(two, out, ExecutorSpec("serial"), quiet=True)  # a larger budget
    populations = pd.read_csv(out / "populations.csv")
    assert report.populations == 2 and len(populations) == 2
    assert populations.loc[0, "epsilon"] == first.loc[0, "epsilon"]  # the first one is kept
    changed = _file(tmp_path, text.replace("high: 0.5, scale", "high: 0.4, scale"), "three.yaml")
    with pytest.raises(InputError, match="holds a calibration"):
        run_calibration(changed, out, ExecutorSpec("serial"), quiet=True)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        run_calibration(two, stray, ExecutorSpec("serial"), quiet=True)
    assert (stray / "notes.txt").read_text() == "keep me"


def test_validate_patterns_fails_on_an_unreachable_target_and_passes_a_met_one(
    tmp_path: Path, capsys
) -> None:
    body = (
        SMALL_WORLD
        + "parameters: {market.volatility: {}}\n"
        + "validation: {seeds: 3}\n"
        + "targets:\n  small_firm_share: {low: 0.5, high: 1.0, source: test}\n"
    )
    met = _file(tmp_path, body, "met.yaml")
    impossible = _file(
        tmp_path,
        body + "  firm_size_skewness: {low: 1000, scale: 1, source: impossible}\n",
        "impossible.yaml",
    )
    args = ["--executor", "serial", "--quiet"]
    assert klaster(["validate-patterns", str(met), "--out", str(tmp_path / "a"), *args]) == 0
    printed = capsys.readouterr().out
    assert "[PASS] small_firm_share" in printed and "3 seeds" in printed
    code = klaster(["validate-patterns", str(impossible), "--out", str(tmp_path / "b"), *args])
    assert code == 1
    printed = capsys.readouterr().out
    assert "[FAIL] firm_size_skewness" in printed and "[PASS] small_firm_share" in printed
    result = json.loads((tmp_path / "b" / "validation.json").read_text())
    assert result["seeds"] == 3 and result["passed"] == 1
    check = next(c for c in result["checks"] if c["name"] == "small_firm_share")
    assert check["low"] <= check["observed"] <= check["high"]  # reported with its interval
    # the same seeds whatever the order of runs: a second run reports the same numbers
    klaster(["validate-patterns", str(impossible), "--out", str(tmp_path / "c"), *args])
    again = json.loads((tmp_path / "c" / "validation.json").read_text())
    assert again["checks"] == result["checks"]
    shutil.rmtree(tmp_path / "c")
    # another master seed draws other worlds
    klaster(
        ["validate-patterns", str(met), "--out", str(tmp_path / "d"), "--master-seed", "9", *args]
    )
    other = json.loads((tmp_path / "d" / "validation.json").read_text())
    first = json.loads((tmp_path / "a" / "validation.json").read_text())
    assert other["checks"][0]["observed"] != first["checks"][0]["observed"]


def test_the_pilot_calibrates_what_the_default_does() -> None:
    default, default_priors = load_calibration(ROOT / "calibration" / "default.yaml")
    pilot, pilot_priors = load_calibration(ROOT / "calibration" / "pilot.yaml")
    assert pilot_priors == default_priors
    assert pilot.targets == default.targets
    assert pilot.scenarios == default.scenarios and pilot.steps == default.steps


@pytest.mark.slow
def test_the_smoke_calibration_runs_on_dask(tmp_path: Path) -> None:
    """pyabc's DaskDistributedSampler on the dask executor that sweeps use (a LocalCluster)."""
    pytest.importorskip("distributed")
    from sim.calibrate.fit import run_calibration
    from sim.runner.executors import ExecutorSpec

    report = run_calibration(SMOKE, tmp_path / "out", ExecutorSpec("dask", workers=2), quiet=True)
    assert report.populations == 2
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["sampler"].startswith("dask") and manifest["status"] == "complete"
    assert len(pd.read_parquet(tmp_path / "out" / "posterior.parquet")) == 6


def test_a_dead_worker_exits_3_keeps_the_populations_and_the_same_command_resumes(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """The OOM killer stopping a worker is the machine's failure, not a bug in klaster."""
    from multiprocessing import ProcessError

    from pyabc.sampler import SingleCoreSampler

    import sim.calibrate.fit as fit

    class DiesInSecondPopulation(SingleCoreSampler):
        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            if t >= 1:  # what pyabc's multicore sampler raises when a worker was killed
                raise ProcessError("At least one worker is dead.")
            return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)

    out = tmp_path / "out"
    command = ["calibrate", str(SMOKE), "--out", str(out), "--executor", "serial", "--quiet"]
    np.random.seed(5)
    with monkeypatch.context() as patch:
        patch.setattr(fit, "make_sampler", lambda *args: DiesInSecondPopulation())
        assert klaster(command) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "worker process died" in err and "resume" in err and str(out) in err
    assert "internal error" not in err
    assert len(pd.read_csv(out / "populations.csv")) == 1  # the finished population is kept
    assert klaster(command) == 0  # the same command, now with a healthy sampler, resumes
    assert len(pd.read_csv(out / "populations.csv")) == 2


def test_the_evaluation_budget_stops_a_population_that_would_overrun_it(
    tmp_path: Path, monkeypatch
) -> None:
    """pyabc checks its total budget only between populations; ours holds within one."""
    from sim.calibrate import smc
    from sim.calibrate.fit import run_calibration
    from sim.runner.executors import ExecutorSpec

    calls = []
    records = smc.Evaluation.records

    def counted(self, values, seeds):
        calls.append(1)
        return records(self, values, seeds)

    monkeypatch.setattr(smc.Evaluation, "records", counted)
    text = SMOKE.read_text().replace(
        "budget: {particles: 6, populations: 2, max_evaluations: 200, max_minutes: 5}",
        "budget: {particles: 6, populations: 8, max_evaluations: 14, max_minutes: 5}",
    )
    assert "max_evaluations: 14" in text
    np.random.seed(11)
    report = run_calibration(
        _file(tmp_path, text), tmp_path / "out", ExecutorSpec("serial"), quiet=True
    )
    assert len(calls) <= 14
    assert report.populations >= 1  # the prior sample fits; a later population is cut short
