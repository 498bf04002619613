"""Provenance for manifests: which code, interpreter, packages and machine produced a result.

One place for every manifest (`klaster run`, `klaster compare`, `klaster sweep`), so a results
folder can always be traced to code and input the same way.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import sim

PACKAGES = (
    "klaster",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pydantic",
    "plotly",
    "SALib",
    "dask",
    "distributed",
)
CODE_DIR = Path(sim.__file__).resolve().parent.parent


def git_state(directory: Path = CODE_DIR) -> dict[str, Any]:
    """Revision and dirty flag of the checkout holding the code; null outside a git checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=directory, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    revision = git("rev-parse", "HEAD")
    if revision is None:
        return {"revision": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"revision": revision, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict[str, Any]:
    """The parts of a manifest that describe the machine and code rather than the job."""
    from sim.runner.model_version import model_version

    return {
        "model_version": model_version(),
        "git": git_state(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "packages": package_versions(),
    }


def provenance() -> dict[str, Any]:
    """Environment plus the command that ran and when."""
    return {
        **environment(),
        "command": " ".join(sys.argv),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
