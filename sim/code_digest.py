"""A digest of the simulation's code (every ``.py`` file directly in ``sim/``): what a run
computes is a function of it. It keys stored runs (``sim.runner.model_version``) and the folder
of compiled kernels (``sim.compiled``)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


@functools.cache
def code_digest() -> str:
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
