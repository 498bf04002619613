"""The Python API (sim.api, docs/python.md): scenarios from presets, files and dicts; DataFrames
out; errors in the caller's words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
from sim.model.outcomes import names

SMALL = {"world.n_clusters": 8, "run.burn_in": 2}


def test_the_package_root_hands_out_the_api() -> None:
    assert sim.build is sim.api.build and sim.sweep is sim.api.sweep
    with pytest.raises(AttributeError):
        sim.no_such_thing  # noqa: B018


def test_a_model_from_a_preset_a_file_or_a_dict_is_the_same_model(tmp_path: Path) -> None:
    file = tmp_path / "mine.yaml"
    file.write_text("extends: top_down\npolicy: {planning_quality: 0.8}\n", encoding="utf-8")
    from_file = sim.build(file, seed=4, overrides=SMALL)
    from_dict = sim.build(
        {"extends": "top_down", "policy": {"planning_quality": 0.8}}, seed=4, overrides=SMALL
    )
    from_preset = sim.build("top_down", seed=4, overrides=SMALL, planning_quality=0.8)
    for model in (from_file, from_dict, from_preset):
        model.step()
    assert from_dict.config.policy.planning_quality == 0.8
    pd.testing.assert_frame_equal(sim.outcomes(from_file), sim.outcomes(from_dict))
    pd.testing.assert_frame_equal(sim.outcomes(from_file), sim.outcomes(from_preset))


def test_outcomes_and_clusters_are_dataframes_with_the_registrys_columns() -> None:
    model = sim.build("demand_driven", seed=2, overrides=SMALL)
    model.step()
    model.step()
    aggregate = sim.outcomes(model)
    assert list(aggregate.columns) == list(names("aggregate"))
    assert list(aggregate["step"]) == [0, 1, 2]
    table = sim.clusters(model)
    assert len(table) == 8 and "step" not in table
    every = sim.clusters(model, every_step=True)
    assert len(every) == 3 * 8 and list(every.columns) == list(names("cluster"))


def test_run_takes_a_dict_and_returns_its_tables() -> None:
    result = sim.run(
        {"extends": "bottom_up", "world": {"n_clusters": 8}, "run": {"burn_in": 2}},
        seed=3,
        steps=3,
    )
    assert isinstance(result.aggregate, pd.DataFrame) and len(result.aggregate) == 4
    assert isinstance(result.clusters, pd.DataFrame)
    assert "cumulative_value_added" in result.summary
    again = sim.run("bottom_up", seed=3, steps=3, n_clusters=8, burn_in=2)
    pd.testing.assert_frame_equal(result.aggregate, again.aggregate)


def test_compare_pairs_regimes_by_seed() -> None:
    runs = sim.compare(["no_policy", "top_down"], seeds=2, steps=2, overrides=SMALL)
    assert list(runs["scenario"]) == ["no_policy", "no_policy", "top_down", "top_down"]
    assert list(runs["seed"]) == [0, 1, 0, 1]
    assert (runs.loc[runs["scenario"] == "no_policy", "va_gain"] == 0).all()
    assert runs.loc[runs["scenario"] == "top_down", "va_gain"].notna().all()
    table = sim.interval_table(runs)
    assert {"scenario", "outcome", "mean", "ci_low", "ci_high"} <= set(table.columns)


def test_sweep_takes_a_dict_and_returns_one_row_per_run(tmp_path: Path) -> None:
    experiment = {
        "name": "api_test",
        "scenarios": ["top_down", "bottom_up"],
        "vary": {"policy.planning_quality": [0.2, 0.8]},
        "replicates": 1,
        "seeds": "common",
        "set": {"world.n_clusters": 8, "run.burn_in": 2},
        "steps": 2,
        "summaries": {"va_mean": {"column": "value_added", "reduce": "mean"}},
    }
    table = sim.sweep(experiment, out=tmp_path / "kept")
    assert len(table) == 4
    assert set(table["scenario"]) == {"top_down", "bottom_up"}
    assert table["va_mean"].notna().all()
    assert (tmp_path / "kept" / "outcomes.parquet").is_file()
    # the same experiment as a file gives the same table (and resumes from the kept folder)
    file = tmp_path / "api_test.yaml"
    file.write_text(yaml.safe_dump(experiment), encoding="utf-8")
    again = sim.sweep(file, out=tmp_path / "kept")
    pd.testing.assert_series_equal(table["va_mean"], again["va_mean"])


def test_errors_speak_the_callers_language(tmp_path: Path) -> None:
    with pytest.raises(sim.InputError, match=r"\(with overrides=\): policy\.planning_quality"):
        sim.build("top_down", overrides={"policy.planning_quality": 2})
    with pytest.raises(sim.InputError) as raised:
        sim.build("top_down", overrides={"policy.planning_quality.x": 2})
    assert "overrides=" in str(raised.value) and "--set" not in str(raised.value)
    with pytest.raises(sim.InputError, match=r"scenario dict: policy\.planing_quality: unknown"):
        sim.build({"policy": {"planing_quality": 0.5}})
    with pytest.raises(sim.InputError, match=r"sweep\(experiment=\.\.\.\): replicates"):
        sim.sweep({"scenarios": ["top_down"], "replicates": 0})
    with pytest.raises(
        sim.InputError,
        match=r"sweep\(experiment=\.\.\.\) \(scenario top_down.*planing_quality: unknown key",
    ):
        sim.sweep({"scenarios": ["top_down"], "vary": {"policy.planing_quality": [0.1]}})
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_cli_still_speaks_of_set(capsys) -> None:
    from sim.cli import main

    assert main(["validate", "top_down", "--set", "policy.planning_quality=2"]) == 2
    assert "(with --set overrides)" in capsys.readouterr().err


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_documented_example_runs() -> None:
    import runpy

    namespace = runpy.run_path(str(EXAMPLES / "api_example.py"), run_name="__main__")
    assert len(namespace["table"]) == 4
    assert namespace["runs"]["va_gain"].notna().all()


def test_the_notebook_runs() -> None:
    import nbclient  # the dev extra installs them
    import nbformat

    notebook = nbformat.read(EXAMPLES / "api.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    last = notebook.cells[-1]["outputs"][0]["data"]["text/plain"]
    assert "va_gain" in last and "top_down" in last
