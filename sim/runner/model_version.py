"""The model version that keys stored runs: the release number plus a digest of the model's code.

``sim.__version__`` alone is not enough while the model is being developed: a change to the model
that forgets to bump it would let a resumed sweep mix results of two models in one table. The
digest covers the simulation modules (every ``.py`` file directly in ``sim/``); the runner, report,
viewer and command modules are left out since they do not change what a run computes.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import sim


@functools.cache
def model_version() -> str:
    package = Path(sim.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{sim.__version__}+{digest.hexdigest()[:12]}"
