"""Bit-for-bit fingerprints of what runs produce: a SHA-256 of the bytes of every output table.

A refactoring must leave every output unchanged to the last bit; a tolerance (as in
``test_speed_invariants``) would let a reordered sum through. The fingerprint covers each
table's column names, dtypes and raw value bytes (categories as their labels), for every regime
preset and the Indonesian scenario, at the default world and on a larger world with a shock.

Fingerprints depend on the numpy and numba versions (vectorised ``exp``/``log`` may round
differently), so one record is kept per version set. Regenerate only after a deliberate change
of mechanism, and say so in the commit: ``python tests/fingerprint.py --write`` (once per
interpreter whose record should move).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

STORE = Path(__file__).parent / "data" / "fingerprints.json"
CASES: dict[str, tuple[str, dict]] = {
    "no_policy": ("no_policy", {}),
    "top_down": ("top_down", {}),
    "demand_driven": ("demand_driven", {}),
    "bottom_up": ("bottom_up", {}),
    "indonesia": ("indonesia", {}),
    # a larger world with an export shock: entry, exit, slot reuse, recovery beyond toy size
    "bottom_up_large_shock": (
        "bottom_up",
        {
            "world.scale": 3.0,
            "run.steps": 24,
            "market.shocks": [{"step": 8, "size": 0.6, "segments": ["export"]}],
        },
    ),
    "top_down_reselect": (
        "top_down",
        {"run.steps": 24, "policy.reselect_each_cycle": True, "policy.monitoring": 0.8},
    ),
}
SEED = 7


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table: column names, dtypes and value bytes, in column order."""
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}\0{column.dtype}\0".encode())
        if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
            digest.update("\0".join(map(str, column.tolist())).encode())
        else:
            digest.update(np.ascontiguousarray(column.to_numpy()).tobytes())
    return digest.hexdigest()


def summary_digest(summary: dict[str, float]) -> str:
    digest = hashlib.sha256()
    for name in sorted(summary):
        digest.update(name.encode() + b"\0" + np.float64(summary[name]).tobytes())
    return digest.hexdigest()


def fingerprint(case: str) -> dict[str, str]:
    """The digests of one case's outputs: aggregate steps, per-cluster steps, summary."""
    from sim.model import ClusterModel

    scenario, overrides = CASES[case]
    model = ClusterModel(scenario=scenario, seed=SEED, overrides=overrides or None)
    for _ in range(model.config.run.steps):
        model.step()
    result = model.results()
    return {
        "aggregate": frame_digest(result.aggregate),
        "clusters": frame_digest(result.clusters),
        "summary": summary_digest(result.summary),
        "firms_alive": str(int(model.firms.n_alive)),
    }


def recorded_with() -> dict[str, str]:
    """Versions that decide floating-point results (numpy's vectorised exp/log, numba)."""
    import numba

    return {"numpy": np.__version__, "numba": numba.__version__}


def stored() -> dict | None:
    """The stored cases for the running versions, or None if none were taken with them."""
    data = json.loads(STORE.read_text())
    versions = recorded_with()
    return next((r["cases"] for r in data["records"] if r["versions"] == versions), None)


if __name__ == "__main__" and "--write" in sys.argv:
    import subprocess

    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    data = json.loads(STORE.read_text()) if STORE.exists() else {"records": []}
    versions = recorded_with()
    records = [r for r in data["records"] if r["versions"] != versions]
    cases = {case: fingerprint(case) for case in CASES}
    records.append({"versions": versions, "taken_at": revision, "cases": cases})
    data["records"] = sorted(records, key=lambda r: sorted(r["versions"].items()))
    STORE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {STORE} at {revision} for {versions}")
