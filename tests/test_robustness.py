"""Never lose a user's data, never show a traceback: output folders, bounded inputs, hostile YAML,
operating-system failures. In-process through ``sim.cli.main`` (what a shell runs, minus the
interpreter start); full disks and read-only places are simulated by monkeypatching writes."""

from __future__ import annotations

import errno
import json
import math
import os
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.cli import main as cli
from sim.runner import folders, manifest, store
from sim.runner.executors import ExecutorSpec
from sim.runner.finite import unusable_outcomes
from sim.runner.plan import make_plan
from sim.runner.sweep import run_sweep
from sim.scenario.errors import EnvironmentFailure, InputError
from sim.scenario.files import load_scenario
from sim.scenario.safe_yaml import MAX_DEPTH, load_text
from sim.scenario.schema import Scenario

TINY = [
    "--set", "world.n_clusters=4", "--set", "world.n_regions=2",
    "--set", "run.steps=2", "--set", "run.burn_in=1", "--quiet",
]  # fmt: skip


def run(*args: str) -> int:
    try:
        return cli([str(a) for a in args])
    except SystemExit as stop:  # argparse's own checks
        return int(stop.code)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def fake_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    steps = np.arange(3)
    value = 100.0 + seed % 7 + scenario.policy.planning_quality + steps
    return SimpleNamespace(
        aggregate=pd.DataFrame({"step": steps, "value_added": value}),
        summary={"value_added": float(value[-1])},
    )


def nan_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    result = fake_run(scenario, seed)
    if scenario.policy.planning_quality > 0.5:
        result.summary["value_added"] = math.nan
    return result


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: robust
            scenarios: [top_down]
            vary:
              policy.planning_quality: [0.2, 0.8]
            replicates: 2
            steps: 2
            """
        )
    )
    return path


def sweep(experiment: Path, out: Path, run_fn=fake_run, **kw):
    return run_sweep(
        make_plan(experiment), out, ExecutorSpec("serial"), run_fn=run_fn, quiet=True, **kw
    )


# --- 1. output folders ---


def test_a_folder_holding_a_users_file_is_refused_and_left_alone(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    assert run("run", "top_down", "--out", out, *TINY) == 2
    assert "not empty and not a run result folder" in capsys.readouterr().err
    assert tree(out) == {"thesis.docx": b"years of work"}
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no staging folder left


def test_overwrite_writes_klasters_files_and_never_touches_others(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    assert run("run", "top_down", "--out", out, "--overwrite", *TINY) == 0
    assert (out / "thesis.docx").read_bytes() == b"years of work"
    assert folders.folder_kind(out) == "run" and (out / "aggregate.parquet").is_file()


def test_an_existing_file_or_a_file_on_the_path_is_never_made_a_folder(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    assert run("run", "top_down", "--out", file, *TINY) == 2
    assert run("compare", "top_down", "--seeds", "1", "--out", file, *TINY) == 2
    assert run("run", "top_down", "--out", file / "sub", *TINY) == 2
    assert file.read_text() == "keep me"


def test_a_result_folder_records_its_kind_and_is_rewritten_only_by_the_same_kind(
    tmp_path: Path, experiment: Path
) -> None:
    out = tmp_path / "r"
    assert run("run", "top_down", "--out", out, *TINY) == 0
    assert json.loads((out / folders.MARKER).read_text())["kind"] == "run"
    assert run("run", "top_down", "--out", out, "--seed", "3", *TINY) == 0  # same kind: fine
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    with pytest.raises(InputError, match="not a sweep result folder"):
        sweep(experiment, out)
    swept = tmp_path / "s"
    sweep(experiment, swept)
    before = tree(swept)
    assert run("run", "top_down", "--out", swept, *TINY) == 2
    assert tree(swept) == before


def test_a_folder_a_sweep_holds_is_locked_against_run_as_against_a_sweep(
    tmp_path: Path, experiment: Path, capsys
) -> None:
    out = tmp_path / "s"
    sweep(experiment, out)
    before = tree(out)
    with folders.folder_lock(out):
        assert run("run", "top_down", "--out", out, "--overwrite", *TINY) == 2
        assert "another sweep is writing to this folder" in capsys.readouterr().err
        with pytest.raises(folders.SweepLocked):
            sweep(experiment, out)
    assert tree(out) == before


def test_report_never_replaces_a_users_file(tmp_path: Path) -> None:
    from sim.commands.report import write_page

    user = tmp_path / "notes.html"
    user.write_text("mine")
    with pytest.raises(InputError, match="not a klaster report"):
        write_page("<title>klaster: report</title>", user, overwrite=False)
    assert user.read_text() == "mine"
    ours = tmp_path / "report.html"
    write_page("<title>klaster: report</title>1", ours, overwrite=False)
    write_page("<title>klaster: report</title>2", ours, overwrite=False)  # its own: replaced
    assert ours.read_text().endswith("2") and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.html",
        "report.html",
    ]


@pytest.mark.parametrize("name", ["../../evil", "/tmp/klaster-evil", "a/b", ".hidden"])
def test_a_name_from_a_file_never_leaves_the_results_folder(
    tmp_path: Path, monkeypatch, name: str, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.yaml").write_text(f"extends: top_down\nname: {name!r}\n")
    assert run("run", "evil.yaml", *TINY) == 2
    assert "cannot name a results folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.yaml"]
    assert not Path("/tmp/klaster-evil-seed0").exists()


# --- 2. bounded values, finite outcomes ---


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("world.stage_shares=[.nan, 0.5, 0.5]", "world.stage_shares.0"),
        ("market.segment_premium=[1.0, -2.0, 2.2]", "market.segment_premium.1"),
        ("market.quality_threshold=[0.0, 9.0, 0.6]", "market.quality_threshold.1"),
        ("market.demand_growth_mean=[0, 5, 0]", "market.demand_growth_mean.1"),
        ("policy.monitoring=.inf", "policy.monitoring"),
        ("world.regional_capacity=[0.3, .nan]", "world.regional_capacity.1"),
        ("world.products=[a, a]", "products must not repeat"),
        ("world.n_clusters=20000;world.scale=10", "200,000 clusters; the limit is 100,000"),
        ("world.n_clusters=20000;world.cluster_size_median=1000", "the limit is 5,000,000"),
    ],
)
def test_values_past_bounds_nan_and_infinities_are_refused_naming_the_key(
    override: str, key: str
) -> None:
    with pytest.raises(InputError, match=key.replace(".", r"\.").replace("[", r"\[")):
        load_scenario("top_down", override.split(";"))


def test_named_cluster_regions_and_shock_products_must_exist() -> None:
    named = "world.named_clusters=[{name: X, product: rattan, region: 10}]"
    with pytest.raises(InputError, match="region 10 is not below the number of regions"):
        load_scenario("top_down", [named])
    with pytest.raises(InputError, match="'teak' is not in world.products"):
        load_scenario("top_down", ["market.shocks=[{step: 1, products: [teak]}]"])


def test_outcomes_that_are_not_numbers_are_flagged_where_the_registry_does_not_allow_them() -> None:
    assert unusable_outcomes({"value_added": math.nan}) == ["value_added=nan"]
    assert unusable_outcomes({"employment": math.inf}) == ["employment=inf"]
    assert unusable_outcomes({"takeup_rate": math.nan, "recovery_quarters": math.nan}) == []
    frame = pd.DataFrame({"step": [0, 1], "sales": [1.0, math.inf]})
    assert unusable_outcomes({}, frame) == ["sales (per step)=inf"]


def test_a_sweep_run_with_nan_outcomes_is_a_failed_run_with_its_reason(
    tmp_path: Path, experiment: Path
) -> None:
    out = tmp_path / "s"
    report = sweep(experiment, out, run_fn=nan_run)
    assert (report.succeeded, report.failed) == (2, 2)
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert all("not finite numbers (value_added=nan)" in f["error"] for f in failures)
    assert pd.read_parquet(out / "outcomes.parquet")["failed"].sum() == 2


def test_a_run_with_nan_outcomes_exits_1_and_writes_nothing(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import sim.commands.run as command

    monkeypatch.setattr(command, "simulate", lambda s, seed, steps, on_step: nan_run(s, 0))
    out = tmp_path / "r"
    assert run("run", "top_down", "--out", out, "--set", "policy.planning_quality=0.9", *TINY) == 1
    assert "not finite numbers" in capsys.readouterr().err
    assert not out.exists()


# --- 3. hostile YAML ---


def bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (bomb(9), "more than 50,000 values"),
        ("d: " + "[" * 5000 + "]" * 5000, f"nested more than {MAX_DEPTH} levels"),
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'"),
        ("a: !!set {x, y}\n", "explicit tag !!set"),
        ("a: !!float abc\n", "explicit tag !!float"),
        ("a: !!python/object:os.system ls\n", "explicit tag !!python"),
        ("a: " + "9" * 5000 + "\n", "integer with 5000 digits"),
        ("? [a, b]\n: 1\n", "a key must be a plain value"),
    ],
)
def test_hostile_yaml_is_refused_in_one_short_message(
    tmp_path: Path, text: str, message: str, capsys
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    assert run("validate", path) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err
    assert len(err) < 400 and err.count("\n") == 1


def test_a_fifo_a_device_and_a_huge_file_are_refused_without_reading_them(
    tmp_path: Path, capsys
) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    assert run("validate", fifo) == 2
    assert run("validate", "/dev/zero") == 2
    assert run("validate", huge) == 2
    err = capsys.readouterr().err
    assert err.count("not a regular file") == 2 and "limited to 1,000,000" in err


def test_yaml_dates_stay_strings_and_merges_work() -> None:
    assert load_text("a: 2005-06-01\n") == {"a": "2005-06-01"}
    merged = load_text("b: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n")
    assert merged["c"] == {"x": 1, "y": 3}


def test_a_long_validation_error_list_is_cut_and_values_are_shortened(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("firms: {" + ", ".join(f"k{i}: 1" for i in range(40)) + "}\n")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value).count("\n") == 5 and "35 more problems" in str(caught.value)
    path.write_text(f"name: {'x' * 100_000}\n")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(
    ("design", "message"),
    [
        (
            "vary:\n"
            + "".join(f"  firms.k{i}: {{low: 0, high: 1, levels: 10000}}\n" for i in range(3)),
            "2,000,000,000,000 points",
        ),
        (
            "design: {kind: lhs, samples: 10000000}\n"
            "vary:\n  policy.monitoring: {low: 0, high: 1}\n",
            "20,000,000 points",
        ),
        ("replicates: 100000\nvary:\n  policy.monitoring: [0, 0.1, 0.2, 0.3, 0.4, 0.5]\n", "runs"),
    ],
)
def test_designs_are_sized_before_they_are_built(tmp_path: Path, design: str, message: str) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("scenarios: [top_down, no_policy]\n" + design)
    with pytest.raises(InputError, match=message):
        make_plan(path)


# --- 4. the operating system fails ---


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_during_run_is_exit_3_naming_the_folder_and_leaves_nothing(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import sim.commands.run as command

    monkeypatch.setattr(command, "write_json", enospc)
    out = tmp_path / "deep" / "r"
    assert run("run", "top_down", "--out", out, *TINY) == 3
    err = capsys.readouterr().err
    assert f"{out}: no space left on the device" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the parents it made


def test_a_read_only_place_is_exit_3(tmp_path: Path, monkeypatch, capsys) -> None:
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "x"))

    monkeypatch.setattr(folders.tempfile, "mkdtemp", read_only)
    assert run("run", "top_down", "--out", tmp_path / "r", *TINY) == 3
    assert "read-only file system" in capsys.readouterr().err


def test_a_full_disk_mid_sweep_stops_it_keeps_the_runs_and_ends_the_manifest(
    tmp_path: Path, experiment: Path, monkeypatch
) -> None:
    real = store.write_run
    calls = []

    def fills_up(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            enospc()
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "write_run", fills_up)
    out = tmp_path / "s"
    with pytest.raises(EnvironmentFailure, match="no space left.*2 of 4 runs are done"):
        sweep(experiment, out)
    record = manifest.read_manifest(out)
    assert record["status"] == "stopped" and "no space" in record["error"]
    assert (out / "failures.jsonl").read_text() == ""  # the disk's fault, not the runs'
    monkeypatch.setattr(store, "write_run", real)
    resumed = sweep(experiment, out)
    assert (resumed.skipped, resumed.succeeded) == (2, 2)


def test_a_full_disk_before_any_run_removes_the_folder_it_created(
    tmp_path: Path, experiment: Path, monkeypatch
) -> None:
    monkeypatch.setattr(store, "write_run", enospc)
    with pytest.raises(EnvironmentFailure):
        sweep(experiment, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_the_final_manifest_is_written_in_place_when_the_disk_is_full(
    tmp_path: Path, monkeypatch
) -> None:
    manifest.write_manifest(tmp_path, {"status": "running"}, reserve=True)
    monkeypatch.setattr(Path, "write_text", enospc)
    manifest.finish_manifest(tmp_path, {"status": "complete", "counts": {"done": 4}})
    assert manifest.read_manifest(tmp_path) == {"status": "complete", "counts": {"done": 4}}
    assert not (tmp_path / ".manifest.json.tmp").exists()


def test_failure_lines_are_whole_even_when_the_disk_fills_mid_line(
    tmp_path: Path, monkeypatch
) -> None:
    log = store.FailureLog(tmp_path)
    log.add({"run": "a", "error": "x"})
    real_open = open

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def tell(self):
            return self.handle.tell()

        def truncate(self, size):
            return self.handle.truncate(size)

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            enospc()

    monkeypatch.setattr("builtins.open", lambda *a, **k: HalfWriter(real_open(*a, **k)))
    with pytest.raises(OSError):
        log.add({"run": "b", "error": "y" * 1000})
    monkeypatch.undo()
    lines = (tmp_path / "failures.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == ["a"]


@pytest.mark.parametrize("address", ["garbage", "tcp://", "foo://x:1", "tcp://h:99999"])
def test_a_malformed_scheduler_address_is_bad_input(
    experiment: Path, tmp_path: Path, address: str, capsys
) -> None:
    assert run("sweep", experiment, "--out", tmp_path / "s", "--scheduler", address) == 2
    assert "not a scheduler address" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


# --- command-line bounds and the no-traceback guard ---


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "top_down", "--steps", "1000000"], "--steps: expected a whole number from 1"),
        (["run", "top_down", "--seed", str(10**30)], "--seed: expected a whole number from 0"),
        (["run", "top_down", "--set", "policy..planning_quality=0.5"], "is not a dotted key"),
        (["run", "top_down", "--set", ".x=1"], "is not a dotted key"),
        (["compare", "--workers", "5000"], "--workers: expected a whole number from 1"),
        (["compare", "--seeds", "0"], "--seeds: expected a whole number from 1"),
    ],
)
def test_command_line_values_beyond_the_schema_are_refused(
    tmp_path: Path, args: list[str], message: str, capsys
) -> None:
    assert run(*args, "--out", tmp_path / "o") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys) -> None:
    import sim.commands.validate as command

    def broken(args):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(command, "main", broken)
    monkeypatch.delenv("KLASTER_DEBUG", raising=False)
    assert run("validate", "top_down") == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something nobody foresaw" in err
    assert "Traceback" not in err and err.count("\n") == 1
