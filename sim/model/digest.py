"""A digest of the model's code: every ``.py`` file under ``sim/model/`` and ``sim/scenario/``.

What a run computes is a function of exactly these files, so the digest keys stored runs
(``sim.runner.model_version``) and the folder of compiled kernels
(``sim.model.kernels.compiled``). The runner, report, viewer and commands are left out: editing
the HTML report neither recompiles a kernel nor invalidates a stored run.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # sim/
COVERED = ("model", "scenario")


def model_files() -> list[Path]:
    """The files the digest reads, in a fixed order."""
    files = [
        path
        for folder in COVERED
        for path in (PACKAGE / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return sorted(files, key=lambda path: path.relative_to(PACKAGE).as_posix())


@functools.cache
def code_digest() -> str:
    digest = hashlib.sha256()
    for path in model_files():
        name = path.relative_to(PACKAGE).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
