"""Provenance for manifests: what produced a result (code revision, versions, command, time)."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import sim

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "plotly", "SALib")
REPO_ROOT = Path(__file__).resolve().parent.parent


def git_revision() -> dict[str, object]:
    """Commit and dirty flag of the checkout the code runs from (None outside a git checkout)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    revision = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_revision": revision, "git_dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "klaster": sim.__version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance() -> dict[str, object]:
    return {
        **git_revision(),
        "versions": package_versions(),
        "command": " ".join(sys.argv),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
