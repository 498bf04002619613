"""The model version that keys stored runs: the release number plus a digest of the model's code.

``sim.__version__`` alone is not enough while the model is being developed: a change to the model
that forgets to bump it would let a resumed sweep mix results of two models in one table. The
digest covers the model (every ``.py`` file under ``sim/model/`` and ``sim/scenario/``); the
runner, report, viewer and command modules are left out since they do not change what a run
computes.
"""

from __future__ import annotations

import sim
from sim.model.digest import code_digest


def model_version() -> str:
    return f"{sim.__version__}+{code_digest()}"
