"""Fuzzing the command line with hostile files (tests/fuzz_inputs.py generates and judges them).

The default run is small (a few cases of every family, on tiny worlds, in two processes); the
slow variant runs several hundred. Every case must end with exit 0 and finite outcomes, or exit 2
and one short message naming the file and the key; never a traceback, a hang, a file written on
refusal, or a user's file touched.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from fuzz_inputs import FAMILIES, make_cases, run_cases, summarise


def fuzz(tmp_path: Path, seed: int, count: int, workers: int = 2) -> list:
    cases = make_cases(seed, count)
    batches = [cases[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        results = pool.map(run_cases, batches, [str(tmp_path)] * workers)
        outcomes = sorted((o for batch in results for o in batch), key=lambda o: o.number)
    return outcomes


def report(outcomes: list) -> str:
    table = summarise(outcomes)
    lines = [f"{'family':<14} " + " ".join(f"{k:>10}" for k in next(iter(table.values())))]
    for family, row in table.items():
        lines.append(f"{family:<14} " + " ".join(f"{v:>10}" for v in row.values()))
    failures = [o for o in outcomes if o.problems]
    lines += [f"case {o.number} {o.family} {o.detail[:60]}: {o.problems}" for o in failures[:20]]
    return "\n".join(lines)


def test_hostile_files_get_exit_0_with_finite_outcomes_or_exit_2_with_one_message(
    tmp_path: Path,
) -> None:
    outcomes = fuzz(tmp_path, seed=15, count=len(FAMILIES) * 5)
    assert {o.family for o in outcomes} == set(FAMILIES)
    assert any(o.code == 0 for o in outcomes) and any(o.code == 2 for o in outcomes)
    assert not [o for o in outcomes if o.problems], report(outcomes)


@pytest.mark.slow
def test_hostile_files_long_run(tmp_path: Path) -> None:
    outcomes = fuzz(tmp_path, seed=2026, count=len(FAMILIES) * 40)
    print("\n" + report(outcomes))
    assert not [o for o in outcomes if o.problems], report(outcomes)
