"""Experiment files, design expansion, seeds, bad input: the runner before anything runs."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from sim.cli import main as cli
from sim.runner.design import expected_point_count, factor_value
from sim.runner.experiment import Factor, load_experiment
from sim.runner.plan import make_plan
from sim.runner.seeds import run_seed
from sim.scenario.errors import InputError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "a.yaml", "name: a\n")
    write(tmp_path, "b.yaml", "name: b\npolicy: {budget_per_quarter: 100}\n")
    return tmp_path


THREE_FACTORS = """
  policy.planning_quality: {low: 0.1, high: 0.9}
  firms.spillover_rate: {dist: truncnormal, mean: 0.08, sd: 0.05, low: 0.0, high: 0.3}
  firms.exit_patience: {low: 2, high: 8, integer: true}
"""


def experiment(folder: Path, body: str) -> Path:
    return write(folder, "exp.yaml", body)


# --- design counts ---------------------------------------------------------------------------


def test_factorial_is_the_product_of_levels_times_scenarios(folder: Path) -> None:
    path = experiment(
        folder,
        """
        scenarios: [a.yaml, b.yaml]
        vary:
          policy.planning_quality: [0.2, 0.5, 0.8]
          firms.spillover_rate: {low: 0.0, high: 0.2, levels: 5}
        replicates: 3
        """,
    )
    plan = make_plan(path)
    assert len(plan.points) == 2 * 3 * 5
    assert len(plan.runs) == 2 * 3 * 5 * 3
    rates = sorted({p.params["firms.spillover_rate"] for p in plan.points})
    assert rates == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert {p.scenario for p in plan.points} == {"a", "b"}


def test_lhs_gives_n_points_covering_each_range(folder: Path) -> None:
    path = experiment(
        folder, f"scenarios: a.yaml\ndesign: {{kind: lhs, samples: 7}}\nvary:{THREE_FACTORS}"
    )
    plan = make_plan(path)
    assert len(plan.points) == 7
    quality = sorted(p.params["policy.planning_quality"] for p in plan.points)
    # Latin hypercube: one value in each of the 7 equal strata of [0.1, 0.9]
    strata = [int((q - 0.1) / (0.8 / 7)) for q in quality]
    assert strata == list(range(7))
    assert all(isinstance(p.params["firms.exit_patience"], int) for p in plan.points)
    assert all(0.0 <= p.params["firms.spillover_rate"] <= 0.3 for p in plan.points)


@pytest.mark.parametrize(("second_order", "per_sample"), [(False, 3 + 2), (True, 2 * 3 + 2)])
def test_sobol_counts_are_n_d_plus_2_or_n_2d_plus_2(
    folder: Path, second_order: bool, per_sample: int
) -> None:
    """Saltelli: N(D+2) without second-order indices (our default), N(2D+2) with them."""
    design = f"{{kind: sobol, samples: 8, calc_second_order: {str(second_order).lower()}}}"
    path = experiment(
        folder, f"scenarios: [a.yaml, b.yaml]\ndesign: {design}\nvary:{THREE_FACTORS}"
    )
    plan = make_plan(path)
    assert len(plan.points) == 2 * 8 * per_sample
    experiment_ = load_experiment(path)
    assert expected_point_count(experiment_.design, [0, 0, 0]) == 8 * per_sample


def test_morris_gives_r_trajectories_of_d_plus_1(folder: Path) -> None:
    path = experiment(
        folder,
        f"scenarios: a.yaml\ndesign: {{kind: morris, samples: 5, levels: 4}}\nvary:{THREE_FACTORS}",
    )
    plan = make_plan(path)
    assert len(plan.points) == 5 * (3 + 1)
    # on a 4-level grid the range factor takes only grid values
    grid = {round(0.1 + 0.8 * i / 3, 9) for i in range(4)}
    assert {round(p.params["policy.planning_quality"], 9) for p in plan.points} <= grid


def test_sampling_designs_are_reproducible_and_follow_the_design_seed(folder: Path) -> None:
    body = f"scenarios: a.yaml\ndesign: {{kind: lhs, samples: 4}}\nvary:{THREE_FACTORS}"
    first = [p.params for p in make_plan(experiment(folder, body)).points]
    again = [p.params for p in make_plan(experiment(folder, body)).points]
    other = [p.params for p in make_plan(experiment(folder, body + "master_seed: 99\n")).points]
    assert first == again
    assert first != other


def test_factor_values_map_the_unit_interval() -> None:
    assert factor_value(Factor(values=["x", "y", "z"]), 0.0) == "x"
    assert factor_value(Factor(values=["x", "y", "z"]), 0.999) == "z"
    assert factor_value(Factor(values=["x", "y", "z"]), 1.0) == "z"
    assert factor_value(Factor(low=2, high=4), 0.25) == pytest.approx(2.5)
    assert factor_value(Factor(low=2, high=4, integer=True), 0.8) == 4
    assert factor_value(Factor(dist="normal", mean=1.0, sd=2.0), 0.5) == pytest.approx(1.0)
    assert factor_value(Factor(dist="lognormal", mean=0.0, sd=1.0), 0.5) == pytest.approx(1.0)
    # the bounds of Sobol/Morris samples must not give infinities
    assert math.isfinite(factor_value(Factor(dist="normal", mean=0, sd=1), 0.0))
    tri = Factor(dist="triangular", low=0, high=1, mode=0.5)
    assert factor_value(tri, 0.5) == pytest.approx(0.5)


# --- seeds -------------------------------------------------------------------------------------


def test_seeds_differ_across_replicates_and_points_and_are_stable() -> None:
    seeds = {(p, r): run_seed(7, p, r) for p in range(20) for r in range(5)}
    assert len(set(seeds.values())) == len(seeds)
    assert all(seeds[key] == run_seed(7, *key) for key in seeds)
    assert run_seed(8, 0, 0) != run_seed(7, 0, 0)
    # pinned: changing the derivation would silently change every stored result
    assert run_seed(1, 0, 0) == 3325833263181678374
    assert all(0 <= s < 2**63 for s in seeds.values())


def test_run_keys_depend_on_scenario_params_and_seed(folder: Path) -> None:
    body = (
        "scenarios: [a.yaml, b.yaml]\nvary: {policy.planning_quality: [0.2, 0.8]}\nreplicates: 2\n"
    )
    plan = make_plan(experiment(folder, body))
    keys = [run.key for run in plan.runs]
    assert len(set(keys)) == len(keys) == 8
    assert keys == [run.key for run in make_plan(experiment(folder, body)).runs]
    assert [(r.point, r.replicate) for r in plan.runs] == sorted(
        (r.point, r.replicate) for r in plan.runs
    )


def test_relative_scenario_paths_resolve_beside_the_experiment_then_as_presets(
    folder: Path,
) -> None:
    sub = folder / "nested"
    sub.mkdir()
    write(sub, "local.yaml", "name: local\n")
    plan = make_plan(write(sub, "exp.yaml", "scenarios: [local.yaml, ../a.yaml]\n"))
    assert [p.scenario for p in plan.points] == ["local", "a"]


# --- bad experiment files: exit 2, one message naming file and key, nothing written ----------

BAD_FILES = {
    "unknown key": ("scenarios: a.yaml\nreplicatse: 3\n", "replicatse"),
    "wrong type": ("scenarios: a.yaml\nreplicates: many\n", "replicates"),
    "nested unknown key": ("scenarios: a.yaml\ndesign: {kind: lhs, sample: 3}\n", "design.sample"),
    "bad design kind": ("scenarios: a.yaml\ndesign: {kind: grid}\n", "design.kind"),
    "missing scenario file": ("scenarios: [a.yaml, nowhere.yaml]\n", "scenarios.1"),
    "no scenarios": ("replicates: 2\n", "scenarios"),
    "malformed yaml": ("scenarios: [a.yaml\nreplicates: 2\n", "malformed YAML"),
    "value out of range": (
        "scenarios: a.yaml\nvary: {policy.planning_quality: [0.5, 1.5]}\n",
        "policy.planning_quality",
    ),
    "unknown scenario key in vary": (
        "scenarios: a.yaml\nvary: {policy.planing_quality: [0.5]}\n",
        "policy.planing_quality",
    ),
    "range without levels in factorial": (
        "scenarios: a.yaml\nvary: {policy.planning_quality: {low: 0, high: 1}}\n",
        "vary: policy.planning_quality",
    ),
    "sobol samples not a power of 2": (
        f"scenarios: a.yaml\ndesign: {{kind: sobol, samples: 10}}\nvary:{THREE_FACTORS}",
        "design",
    ),
    "bad reduction": (
        "scenarios: a.yaml\nsummaries: {g: {column: x, reduce: median}}\n",
        "summaries.g.reduce",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_experiment_files_exit_2_naming_file_and_key_writing_nothing(
    folder: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body, key = BAD_FILES[case]
    path = experiment(folder, body)
    out = folder / "out"
    code = cli(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(path) in err
    assert key in err
    assert "Traceback" not in err
    assert not out.exists()


def test_missing_experiment_file_is_an_input_error(folder: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        make_plan(folder / "absent.yaml")


def test_dry_run_shows_the_plan_and_writes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment(
        folder, "scenarios: [a.yaml, b.yaml]\nvary: {policy.planning_quality: [0.2, 0.8]}\n"
    )
    out = folder / "out"
    assert cli(["sweep", str(path), "--out", str(out), "--dry-run"]) == 0
    assert "= 4 runs" in capsys.readouterr().out
    assert not out.exists()


def test_experiment_schema_is_generated(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert cli(["schema", "--kind", "experiment"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert {"scenarios", "vary", "design", "replicates", "master_seed", "keep"} <= set(
        schema["properties"]
    )


def test_run_keys_change_with_the_model_version(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed model must not reuse stored runs: its version (release + code digest) is keyed."""
    from sim.runner.model_version import model_version

    body = "scenarios: a.yaml\nreplicates: 2\n"
    before = [run.key for run in make_plan(experiment(folder, body)).runs]
    assert model_version().startswith("0.") and "+" in model_version()
    monkeypatch.setattr("sim.runner.plan.model_version", lambda: "0.1.0+othercode")
    after = [run.key for run in make_plan(experiment(folder, body)).runs]
    assert not set(before) & set(after)


def test_run_keys_include_the_run_function(folder: Path) -> None:
    """The same scenarios swept for group outcomes and for standard ones are different runs
    (their result files hold different columns), so they never share a key."""
    standard = [run.key for run in make_plan(experiment(folder, "scenarios: a.yaml\n")).runs]
    groups = make_plan(experiment(folder, "scenarios: a.yaml\noutcomes: groups\n"))
    assert groups.experiment.outcomes == "groups"
    assert not set(standard) & {run.key for run in groups.runs}


def test_outcomes_named_in_experiments_are_the_models_run_functions() -> None:
    """The experiment schema's choices and the model's run functions are the same list."""
    import typing

    from sim.model.simulate import RUN_FUNCTIONS
    from sim.runner.experiment import Experiment

    choices = typing.get_args(Experiment.model_fields["outcomes"].annotation)
    assert set(choices) == set(RUN_FUNCTIONS)


def test_the_code_digest_covers_the_model_and_scenario_only() -> None:
    """Editing the report, the viewer or a command must neither recompile kernels nor
    invalidate stored runs; editing any model or scenario module must."""
    from sim.model.digest import PACKAGE, model_files

    covered = {path.relative_to(PACKAGE).parts[0] for path in model_files()}
    assert covered == {"model", "scenario"}
    names = {path.relative_to(PACKAGE).as_posix() for path in model_files()}
    assert {"model/kernels/production.py", "scenario/codes.py", "model/agents.py"} <= names
    assert not any(name.startswith(("report/", "viz/", "runner/", "commands/")) for name in names)


def test_the_code_digest_moves_with_a_model_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.model import digest

    before = digest.code_digest()
    original = Path.read_bytes

    def edited(path: Path) -> bytes:
        data = original(path)
        return data + b"# edit\n" if path.name == "market.py" else data

    digest.code_digest.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", edited)
    try:
        assert digest.code_digest() != before
    finally:
        monkeypatch.undo()
        digest.code_digest.cache_clear()
    assert digest.code_digest() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--executor", "serial", "--scheduler", "tcp://x:8786"],
            "--scheduler needs --executor dask",
        ),
        (["--workers", "0"], "--workers: expected a whole number from 1"),
        (["--workers", "100000"], "--workers: expected a whole number from 1"),
        (["--scheduler", "tcp://x:99999"], "not a scheduler address"),
    ],
)
def test_bad_arguments_exit_2_writing_nothing(
    folder: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment(folder, "scenarios: a.yaml\n")
    out = folder / "out"
    try:
        code = cli(["sweep", str(path), "--out", str(out), *args])
    except SystemExit as stop:  # argparse's own checks
        code = stop.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
