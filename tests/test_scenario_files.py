"""Scenario files: inheritance, overrides and one clear message per kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.errors import InputError
from sim.scenario.files import load_scenario
from sim.scenario.presets import PRESETS


def klaster(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_presets_share_the_world_and_differ_only_in_policy():
    presets = [load_scenario(n) for n in PRESETS]
    for other in presets[1:]:
        assert other.world == presets[0].world
        assert other.market == presets[0].market
        assert other.firms == presets[0].firms
        assert other.policy != presets[0].policy
    budgets = {p.policy.budget_per_quarter for p in presets[1:]}
    assert len(budgets) == 1, "every regime has the same budget"


def test_extends_merges_sections_and_overrides_win(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("extends: top_down\npolicy:\n  monitoring: 0.7\n")
    scenario = load_scenario(child, ["policy.planning_quality=0.9"])
    assert scenario.policy.monitoring == 0.7
    assert scenario.policy.planning_quality == 0.9
    assert scenario.policy.selected_clusters == 25  # inherited from top_down


def test_content_hash_tracks_parameters_not_layout(tmp_path):
    a = load_scenario("top_down")
    same = tmp_path / "same.yaml"
    same.write_text("extends: top_down\n")
    assert load_scenario(same).content_hash() == a.content_hash()
    assert load_scenario("top_down", ["policy.monitoring=0.1"]).content_hash() != a.content_hash()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policy:\n  planing_quality: 0.5\n", "policy.planing_quality: unknown key"),
        ("policy:\n  planning_quality: high\n", "policy.planning_quality"),
        ("policy:\n  planning_quality: 1.5\n", "policy.planning_quality: expected a value <= 1"),
        ("policy:\n  monitoring: [0.1\n", "malformed YAML (line "),
        ("- just\n- a list\n", "expected a mapping"),
        ("extends: nowhere.yaml\n", "extends: file not found: nowhere.yaml"),
    ],
)
def test_bad_scenario_gives_one_message_exit_2_and_writes_nothing(tmp_path, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = tmp_path / "out"
    result = klaster("run", str(bad), "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert str(bad) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_missing_file_and_bad_override_and_bad_argument(tmp_path):
    missing = klaster("run", str(tmp_path / "absent.yaml"), "--quiet")
    assert missing.returncode == 2 and "absent.yaml: file not found" in missing.stderr
    bad_set = klaster("validate", "top_down", "--set", "policy.budget_per_quarter=-5")
    assert bad_set.returncode == 2
    assert "policy.budget_per_quarter: expected a value >= 0" in bad_set.stderr
    bad_arg = klaster("run", "top_down", "--seed", "minus")
    assert bad_arg.returncode == 2 and "--seed" in bad_arg.stderr
    assert "Traceback" not in bad_arg.stderr + bad_set.stderr + missing.stderr


def test_validation_error_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("world:\n  stage_shares: [0.5, 0.5, 0.5]\n")
    with pytest.raises(InputError, match="world.stage_shares|world: stage_shares must sum to 1"):
        load_scenario(bad)


def test_schema_command_prints_json_schema_with_policy_fields():
    result = klaster("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "planning_quality" in json.dumps(schema)
    assert schema["additionalProperties"] is False
