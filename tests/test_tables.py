"""Written tables explain themselves: a dictionary beside them, labels for codes, whole numbers
for counts, seeds a spreadsheet cannot round, the headline outcome and the policy parameters in
run tables, ordinary folder permissions and nothing left behind."""

from __future__ import annotations

import csv
import os
import stat
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.model import outcomes as registry
from sim.runner import tables
from sim.runner.executors import ExecutorSpec
from sim.runner.folders import ordinary_folder_mode
from sim.runner.outputs import atomic_folder, write_dictionary, write_table
from sim.runner.plan import make_plan
from sim.runner.sweep import run_sweep
from sim.scenario.codes import CLUSTER_TYPES, COORDINATOR_KINDS
from sim.scenario.schema import Scenario


def fake_run(scenario: Scenario, seed: int) -> SimpleNamespace:
    """A deterministic stand-in for simulate() with a count column and a rising value added."""
    steps = np.arange(scenario.run.steps + 1)
    value = 100.0 + 10.0 * steps + seed % 7
    aggregate = pd.DataFrame(
        {"step": steps.astype(float), "value_added": value, "firms": 50.0 + steps}
    )
    return SimpleNamespace(
        aggregate=aggregate,
        summary={"value_added": float(value[-1]), "exits_total": 3.0, "firms": 52.5},
    )


@pytest.fixture
def swept(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text("name: base\n")
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: fake
            scenarios: [base.yaml]
            vary:
              policy.planning_quality: [0.3, 0.9]
            replicates: 2
            master_seed: 5
            steps: 4
            keep: every_step
            summaries:
              va_start: {column: value_added, reduce: initial}
              va_mean: {column: value_added, reduce: mean}
            """
        )
    )
    out = tmp_path / "out"
    run_sweep(make_plan(path), out, ExecutorSpec("serial", 1), run_fn=fake_run, quiet=True)
    return out


def test_a_sweep_writes_its_dictionary_steps_csv_and_leaves_no_lock(swept: Path) -> None:
    assert not (swept / ".sweep.lock").exists() and not (swept / ".klaster.lock").exists()
    # the only hidden file is the marker saying what wrote the folder (sim.runner.folders)
    assert [p.name for p in swept.iterdir() if p.name.startswith(".")] == [".klaster"]
    outcomes = pd.read_parquet(swept / "outcomes.parquet")
    steps = pd.read_parquet(swept / "steps.parquet")
    dictionary = pd.read_csv(swept / "columns.csv")
    assert list(dictionary.columns) == list(tables.DICTIONARY_COLUMNS)
    for table, frame in (("outcomes", outcomes), ("steps", steps)):
        described = dictionary[dictionary["table"] == table]
        assert list(described["name"]) == list(frame.columns)
        assert not described["meaning"].str.contains("undocumented").any()
    # steps as CSV too, the same rows as the Parquet table
    steps_csv = pd.read_csv(swept / "steps.csv")
    assert len(steps_csv) == len(steps) and list(steps_csv.columns) == list(steps.columns)
    # counts are whole numbers; a mean of a count stays real
    assert steps["step"].dtype == "int64" and steps["firms"].dtype == "int64"
    assert outcomes["exits_total"].dtype == "int64" and outcomes["firms"].dtype == "float64"


def test_sweep_outcomes_hold_the_value_added_index_and_the_policy(swept: Path) -> None:
    outcomes = pd.read_parquet(swept / "outcomes.parquet")
    expected = outcomes["va_mean"] / outcomes["va_start"] - 1  # what the report computed
    assert (outcomes[tables.VA_INDEX] == expected).all()
    assert outcomes[tables.VA_INDEX].gt(0).all()  # value added rises in the fake
    assert "policy.budget_per_quarter" in outcomes and "policy.instrument_mix.credit" in outcomes
    assert list(outcomes.columns).count("policy.planning_quality") == 1  # varied, not repeated


def test_seeds_are_quoted_text_in_csv_and_read_back_exactly(swept: Path) -> None:
    outcomes = pd.read_parquet(swept / "outcomes.parquet")
    assert outcomes["seed"].max() > 2**53  # 63-bit seeds: a float (spreadsheet) rounds them
    with open(swept / "outcomes.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    at = rows[0].index("seed")
    raw = (swept / "outcomes.csv").read_text().splitlines()[1]
    assert f'"{rows[1][at]}"' in raw  # quoted in the file
    assert [int(r[at]) for r in rows[1:]] == outcomes["seed"].tolist()
    assert pd.read_csv(swept / "outcomes.csv")["seed"].tolist() == outcomes["seed"].tolist()


def test_cluster_codes_are_written_as_labels_and_counts_as_integers(tmp_path: Path) -> None:
    clusters = pd.DataFrame(
        {
            "step": [0, 0],
            "cluster": [0, 1],
            "product": [1, 0],
            "region": [2, 0],
            "firms": [12.0, 30.0],
            "coordinator": [0.0, 2.0],
            "cluster_type": [3.0, 0.0],
            "selected": [1.0, 0.0],
            "value_added": [1.5, 2.25],
        }
    )
    rows = write_table(clusters, tmp_path, "clusters", "cluster", ["rattan", "batik"])
    written = pd.read_parquet(tmp_path / "clusters.parquet")
    assert written["product"].tolist() == ["batik", "rattan"]
    assert written["region"].tolist() == ["R2", "R0"]
    assert written["coordinator"].tolist() == [COORDINATOR_KINDS[0], COORDINATOR_KINDS[2]]
    assert written["cluster_type"].tolist() == [CLUSTER_TYPES[3], CLUSTER_TYPES[0]]
    assert written["firms"].dtype == "int64" and written["selected"].dtype == "int64"
    assert written["value_added"].tolist() == [1.5, 2.25]
    assert pd.read_csv(tmp_path / "clusters.csv")["coordinator"].tolist() == ["none", "appointed"]
    write_dictionary(tmp_path, [rows])
    dictionary = pd.read_csv(tmp_path / "columns.csv").set_index("name")
    assert dictionary.loc["firms", "type"] == "integer"
    assert dictionary.loc["coordinator", "unit"] == "label: none, emergent, appointed"
    assert dictionary.loc["value_added", "unit"] == registry.MONEY


def test_every_declared_outcome_has_a_known_type() -> None:
    assert {o.type for o in registry.OUTCOMES} <= set(registry.TYPES)
    counts = {o.name for o in registry.OUTCOMES if o.type == registry.INTEGER}
    assert {"firms", "entries", "exits", "step", "exits_total"} <= counts


def test_result_folders_get_ordinary_permissions(tmp_path: Path) -> None:
    with atomic_folder(tmp_path / "result", "run") as folder:
        (folder / "x.txt").write_text("x")
    mode = stat.S_IMODE(os.stat(tmp_path / "result").st_mode)
    assert mode == ordinary_folder_mode()  # what mkdir gives (0755 under umask 022), not 0700
