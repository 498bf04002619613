"""`klaster run` writes complete, reproducible outputs."""

from __future__ import annotations

import json

import pandas as pd

from tests.test_scenario_files import klaster


def test_run_writes_tables_and_manifest(tmp_path):
    out = tmp_path / "run"
    result = klaster(
        "run",
        "bottom_up",
        "--seed",
        "4",
        "--steps",
        "6",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "world.n_clusters=20",
        "--set",
        "run.burn_in=2",
    )
    assert result.returncode == 0, result.stderr
    assert "Market share vs outside competitors" in result.stdout
    aggregate = pd.read_parquet(out / "aggregate.parquet")
    assert list(aggregate["step"]) == list(range(7))
    clusters = pd.read_csv(out / "clusters.csv")
    assert len(clusters) == 7 * 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4
    assert manifest["scenario"] == "bottom_up"
    assert len(manifest["scenario_hash"]) == 16
    assert manifest["packages"]["mesa"].startswith("3.")
    assert manifest["scenario_resolved"]["world"]["n_clusters"] == 20
    assert "revision" in manifest["git"] and "command" in manifest and "model_version" in manifest
