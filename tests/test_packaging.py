"""Presets and experiment files travel with the package, from one copy: ``sim/data/`` links to the
top-level ``scenarios/`` and ``experiments/`` (what make and the docs use), and the wheel holds
the files themselves. ``.ci/wheel`` installs that wheel in a clean Python 3.12 venv."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from sim.runner.experiment import EXPERIMENT_DIR, resolve_experiment_path
from sim.scenario.presets import PRESETS, SCENARIO_DIR

ROOT = Path(__file__).resolve().parents[1]


def _package_data() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["setuptools"]["package-data"]["sim"]


def _data_files() -> list[str]:
    """Every YAML file under scenarios/ and experiments/, as its path inside the package."""
    return sorted(
        f"data/{path.relative_to(ROOT).as_posix()}"
        for folder in ("scenarios", "experiments")
        for path in (ROOT / folder).rglob("*.yaml")
    )


def test_the_package_finds_the_top_level_folders_not_a_copy() -> None:
    assert (ROOT / "sim" / "data" / "scenarios").is_symlink()
    assert (ROOT / "sim" / "data" / "experiments").is_symlink()
    assert SCENARIO_DIR.resolve() == (ROOT / "scenarios").resolve()
    assert EXPERIMENT_DIR.resolve() == (ROOT / "experiments").resolve()
    assert all((SCENARIO_DIR / f"{name}.yaml").is_file() for name in PRESETS)


def test_every_scenario_and_experiment_file_is_package_data() -> None:
    patterns = _package_data()
    missing = [f for f in _data_files() if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_experiments_are_found_by_name_from_anywhere(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("regimes", "smoke/regimes", "experiments/regimes.yaml", "regimes.yaml"):
        found = resolve_experiment_path(name)
        assert found.is_file() and found.resolve().parent.name in ("experiments", "smoke"), name
    assert resolve_experiment_path("no_such_experiment") == Path("no_such_experiment")


def test_mesa_imports_with_the_base_dependencies() -> None:
    """Mesa 3.5 imports networkx at ``import mesa`` but declares it only in its extras."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    base = [
        d.split(">")[0].split("=")[0].strip().lower() for d in pyproject["project"]["dependencies"]
    ]
    assert "networkx" in base


@pytest.mark.slow
def test_the_wheel_carries_the_same_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("klaster-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in _data_files():
            assert archive.read(f"sim/{name}") == (ROOT / name.removeprefix("data/")).read_bytes()
