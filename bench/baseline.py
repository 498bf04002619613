"""The yardsticks ``make bench`` measures in the same invocation as the model: the model at the
start-of-issue-12 revision (default-world runs, interleaved with this revision's) and the
machine's limit probe (``../shared/bench/limit_probe.py``, when it is there).

The old revision's ``sim/`` and ``scenarios/`` are taken out of git (``git archive``) into a
folder of the system's temporary directory, named by the revision, and its kernels are compiled
there once; later bench runs reuse it. It runs on this checkout's virtual environment (same
dependencies).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# main when issue 12 began (the figures its targets are relative to)
BASELINE_REVISION = "2b11abe3cff71e10861fcc6fea11e48d0efa549b"
DEFAULT_WORLD_SCRIPT = Path(__file__).with_name("default_world.py")
LIMIT_PROBE = ROOT.parent / "shared" / "bench" / "limit_probe.py"
PROBE_LINE = re.compile(r"^\s*(\d+) firms:\s*([\d.]+) ms/step,\s*([\d.]+) M firm-steps/s")


def baseline_tree(revision: str = BASELINE_REVISION) -> Path | None:
    """The old revision's tree with its kernels compiled, or None if git cannot give it (a
    shallow clone, no git) or it does not run here."""
    tree = Path(tempfile.gettempdir()) / f"klaster-baseline-{revision[:12]}"
    ready = tree / ".compiled"
    if ready.exists():
        return tree
    tree.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "sim", "scenarios"], capture_output=True
    )
    if archive.returncode != 0:
        shutil.rmtree(tree, ignore_errors=True)
        return None
    unpacked = subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout)
    warmed = unpacked.returncode == 0 and (
        subprocess.run(
            [sys.executable, "-m", "sim.model.warmup"],
            cwd=tree,
            env=_env_for(tree),
            capture_output=True,
        ).returncode
        == 0
    )
    if not warmed:  # (an old revision this environment cannot run: no comparison, no crash)
        shutil.rmtree(tree, ignore_errors=True)
        return None
    ready.touch()
    return tree


def _env_for(tree: Path) -> dict[str, str]:
    """Environment that makes ``import sim`` find ``tree``'s package (ahead of the editable
    install of this checkout, which Python's path finder consults later)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(tree)
    return env


def default_world_runs(tree: Path, regimes: tuple[str, ...], reps: int) -> dict:
    """Seconds per default-world run of each regime, measured in a new process on ``tree``."""
    done = subprocess.run(
        [sys.executable, str(DEFAULT_WORLD_SCRIPT), ",".join(regimes), str(reps)],
        cwd=tree,
        env=_env_for(tree),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_default_world(regimes: tuple[str, ...], rounds: int = 3, reps: int = 2) -> dict:
    """Default-world runs of this revision and of the baseline, in alternating processes (so
    the machine's load drifts over both alike); medians per regime and the ratio new / old."""
    old_tree = baseline_tree()
    trees = {"now": ROOT} | ({"baseline": old_tree} if old_tree else {})
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        side: {r: {"wall_sec": [], "cpu_sec": []} for r in regimes} for side in trees
    }
    for _ in range(rounds):
        for side, tree in trees.items():
            for regime, timing in default_world_runs(tree, regimes, reps).items():
                for key, values in timing.items():
                    samples[side][regime][key] += values
    result: dict = {
        "baseline_revision": BASELINE_REVISION[:7] if old_tree else None,
        "runs_per_regime": rounds * reps,
        "regimes": {},
    }
    for regime in regimes:
        row = {}
        for side in trees:
            for key in ("wall_sec", "cpu_sec"):
                row[f"{key}_{side}"] = statistics.median(samples[side][regime][key])
                row[f"{key}_min_{side}"] = min(samples[side][regime][key])
        if old_tree:
            row["wall_ratio"] = row["wall_sec_now"] / row["wall_sec_baseline"]
            row["cpu_ratio"] = row["cpu_sec_now"] / row["cpu_sec_baseline"]
            # the least disturbed run of each: on a shared machine load only ever adds time
            row["cpu_min_ratio"] = row["cpu_sec_min_now"] / row["cpu_sec_min_baseline"]
        result["regimes"][regime] = row
    return result


def limit_probe() -> dict[int, float] | None:
    """M firm-steps/s of the limit probe at each of its sizes, or None if it is absent."""
    if not LIMIT_PROBE.exists():
        return None
    done = subprocess.run(
        [sys.executable, str(LIMIT_PROBE)], check=True, capture_output=True, text=True
    )
    rates = {}
    for line in done.stdout.splitlines():
        match = PROBE_LINE.match(line)
        if match:
            rates[int(match.group(1))] = float(match.group(3)) * 1e6
    return rates
