"""The robustness table of issue 15: every check, cases tried, passed, failed.

    .venv/bin/python bench/robustness.py [--fuzz N] [--kills K]

Rows: the fuzz test (hostile files through the command line, tests/fuzz_inputs.py), each item's
tests (tests/test_robustness.py, grouped by item), real full disks and read-only places (a tiny
tmpfs and a read-only bind mount; only as root, else skipped), and kill -9 of a real sweep K
times, resumed each time, against an uninterrupted sweep. Prints a Markdown table and the totals
of tracebacks, hangs, user data deleted and runs lost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
KLASTER = [sys.executable, "-m", "sim.cli"]
TINY = ["--set", "world.n_clusters=4", "--set", "world.n_regions=2", "--set", "run.steps=2",
        "--set", "run.burn_in=1", "--quiet"]  # fmt: skip

ITEMS = {  # test name fragments -> the row of the table they count in
    "1. output folders": (
        "users_file", "overwrite", "made_a_folder", "records_its_kind", "locked_against",
        "never_leaves",
    ),
    "2. bounds, NaN, finite outcomes": ("past_bounds", "must_exist", "registry", "nan_outcomes"),
    "3. hostile YAML, design sizing": (
        "hostile_yaml", "fifo", "dates", "error_list", "sized_before",
    ),
    "4. OS errors, manifests, failure lines": (
        "full_disk", "read_only", "final_manifest", "failure_lines", "scheduler",
    ),
    "CLI bounds, no-traceback guard": ("command_line", "unexpected_error"),
}  # fmt: skip


def fuzz(count: int, seed: int) -> dict:
    sys.path.insert(0, str(TESTS))
    from fuzz_inputs import make_cases, run_cases

    cases = make_cases(seed, count)
    with tempfile.TemporaryDirectory() as root:
        batches = [cases[0::2], cases[1::2]]
        with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
            outcomes = [o for batch in pool.map(run_cases, batches, [root] * 2) for o in batch]
    failed = [o for o in outcomes if o.problems]
    for o in failed[:10]:
        print(f"  fuzz case {o.number} ({o.family}, {o.detail[:50]}): {o.problems}")
    return {
        "cases": len(outcomes),
        "passed": len(outcomes) - len(failed),
        "failed": len(failed),
        "tracebacks": sum(o.traceback for o in outcomes),
        "hangs": sum(o.hang for o in outcomes),
        "deleted": sum(o.deleted for o in outcomes),
        "exit0": sum(o.code == 0 for o in outcomes),
        "slowest_s": round(max(o.seconds for o in outcomes), 2),
    }


def item_tests() -> dict[str, dict]:
    import pytest

    class Collect:
        def __init__(self) -> None:
            self.results: dict[str, dict] = {row: {"cases": 0, "passed": 0} for row in ITEMS}

        def pytest_runtest_logreport(self, report) -> None:
            if report.when != "call":
                return
            for row, fragments in ITEMS.items():
                if any(fragment in report.nodeid for fragment in fragments):
                    self.results[row]["cases"] += 1
                    self.results[row]["passed"] += report.passed
                    break

    collect = Collect()
    pytest.main(
        ["-q", "-p", "no:cacheprovider", str(TESTS / "test_robustness.py")], plugins=[collect]
    )
    return collect.results


def klaster(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KLASTER, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def fill(path: Path, leave: int) -> None:
    """Fill the file system of ``path`` to the last block, then free ``leave`` bytes."""
    with open(path, "wb", buffering=0) as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)
        with contextlib.suppress(OSError):
            handle.truncate(max(0, handle.tell() - leave))


def real_filesystems(work: Path) -> dict:
    """A tmpfs filled to the brim and a read-only bind mount, as root; exit 3, nothing left."""
    if os.geteuid() != 0:
        return {"cases": 0, "passed": 0, "note": "skipped: needs root to mount"}
    experiment = work / "exp.yaml"
    experiment.write_text(
        "name: fs\nscenarios: [top_down]\nset: {world.n_clusters: 4, world.n_regions: 2, "
        "run.burn_in: 1}\nsteps: 2\nvary: {policy.planning_quality: [0.2, 0.4, 0.6, 0.8]}\n"
        "replicates: 10\nkeep: every_step\n"
    )
    full, readonly = work / "full", work / "readonly"
    full.mkdir()
    readonly.mkdir()
    checks = []
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", full], check=True)
        subprocess.run(["mount", "--bind", readonly, readonly], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", readonly], check=True)
        (full / "user.txt").write_text("mine")
        fill(full / "fill", leave=0)
        for args, place in (
            (["run", "top_down", *TINY, "--out", full / "r"], full),
            (["compare", "top_down", "--seeds", "2", *TINY, "--out", full / "c"], full),
            (["run", "top_down", *TINY, "--out", readonly / "r"], readonly),
            (["sweep", experiment, "--quiet", "--out", readonly / "s"], readonly),
        ):
            before = sorted(p.name for p in place.iterdir())
            done = klaster(*args, cwd=work)
            after = sorted(p.name for p in place.iterdir())
            ok = (
                done.returncode == 3
                and "Traceback" not in done.stderr
                and done.stderr.count("\n") == 1
                and before == after
            )
            checks.append(ok)
            if not ok:
                print(f"  fs check failed: {args[:2]} -> {done.returncode}: {done.stderr[-300:]}")
        # a sweep that fills the disk midway: exit 3, runs kept, manifest final, then resumable
        (full / "fill").unlink()
        fill(full / "fill", leave=150_000)
        done = klaster("sweep", experiment, "--quiet", "--executor", "serial", "--out",
                       full / "s", cwd=work)  # fmt: skip
        kept = (full / "s" / "manifest.json").is_file()
        manifest = json.loads((full / "s" / "manifest.json").read_text()) if kept else {}
        lines = (full / "s" / "failures.jsonl").read_text().splitlines() if kept else []
        print(f"  mid-sweep full disk: exit {done.returncode}: {done.stderr.strip()[-200:]}")
        checks.append(
            done.returncode == 3
            and kept
            and manifest["status"] == "stopped"
            and all(json.loads(line) for line in lines)
            and (full / "user.txt").read_text() == "mine"
        )
        (full / "fill").unlink()
        resumed = klaster("sweep", experiment, "--quiet", "--executor", "serial", "--out",
                          full / "s", cwd=work)  # fmt: skip
        checks.append(resumed.returncode == 0 and "40 runs" in resumed.stdout)
        print(f"  status {manifest.get('status')}; resumed: exit {resumed.returncode}: "
              f"{(resumed.stdout + resumed.stderr).strip()[-200:]}")  # fmt: skip
    finally:
        for mount in (readonly, full):
            subprocess.run(["umount", mount], check=False, capture_output=True)
    return {"cases": len(checks), "passed": sum(checks)}


def kill_resume(kills: int, work: Path) -> dict:
    """Kill a real sweep (process pool) with SIGKILL ``kills`` times, resume, compare."""
    experiment = work / "resume.yaml"
    experiment.write_text(
        textwrap.dedent(
            """
            scenarios: [no_policy, bottom_up]
            set: {world.n_clusters: 12, world.n_regions: 3, run.burn_in: 2}
            vary: {policy.planning_quality: [0.3, 0.6, 0.9]}
            replicates: 8
            master_seed: 3
            steps: 6
            keep: every_step
            """
        )
    )
    reference, out = work / "reference", work / "killed"
    klaster("sweep", experiment, "--quiet", "--executor", "serial", "--out", reference, cwd=work)
    runs = out / "runs"
    done_files: set[str] = set()
    lost = kills_done = 0
    for _ in range(kills):
        sweep = subprocess.Popen(
            [*KLASTER, "sweep", str(experiment), "--quiet", "--workers", "2", "--out", str(out)],
            cwd=work,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = len(done_files) + 2
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sweep.poll() is None:
            if runs.is_dir() and len(list(runs.glob("*.parquet"))) >= target:
                break
            time.sleep(0.01)
        if sweep.poll() is not None:
            break  # it finished before it could be killed
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
        kills_done += 1
        now = {p.name for p in runs.glob("*.parquet")}
        lost += len(done_files - now)
        done_files = now
    final = klaster("sweep", experiment, "--quiet", "--workers", "2", "--out", out, cwd=work)
    same = all(
        (out / name).read_bytes() == (reference / name).read_bytes()
        for name in ("outcomes.parquet", "steps.parquet")
    )
    return {
        "kills": kills_done,
        "lost": lost + (0 if same else 1),
        "passed": int(final.returncode == 0 and same and lost == 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=640, help="fuzz cases")
    parser.add_argument("--seed", type=int, default=2026, help="fuzz seed")
    parser.add_argument("--kills", type=int, default=12, help="kill -9 of a sweep, resumed")
    args = parser.parse_args()
    os.chdir(ROOT)
    started = time.perf_counter()
    fuzzed = fuzz(args.fuzz, args.seed)
    items = item_tests()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        filesystems = real_filesystems(work)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(work / "full")
        resume = kill_resume(args.kills, work)
    rows = [
        (
            f"6. fuzz: hostile files, seed {args.seed} ({fuzzed['exit0']} exit 0, slowest "
            f"{fuzzed['slowest_s']} s)",
            fuzzed["cases"],
            fuzzed["passed"],
        )
    ]
    rows += [(name, r["cases"], r["passed"]) for name, r in items.items()]
    rows.append(
        (
            "4. real tmpfs full disk, read-only bind mount",
            filesystems["cases"],
            filesystems["passed"],
        )  # fmt: skip
    )
    rows.append(
        (
            "kill -9 of a sweep (process pool), resumed; final table = uninterrupted one",
            resume["kills"],
            resume["kills"] if resume["passed"] else 0,
        )
    )
    print("\n| check | cases tried | passed | failed |\n|---|---:|---:|---:|")
    for name, cases, passed in rows:
        print(f"| {name} | {cases} | {passed} | {cases - passed} |")
    print(
        f"\ntracebacks {fuzzed['tracebacks']}, hangs {fuzzed['hangs']}, user data deleted "
        f"{fuzzed['deleted']}, runs lost to kill -9: {resume['lost']} "
        f"({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
