"""Which accepted set the presets take: the best fit re-measured on fresh seeds, not the best draw.

ABC-SMC scores each accepted set on a few seeds (3 in the default file), so the set with the
smallest distance is partly the luckiest draw (the winner's curse): adopted as presets and
validated on 32 fresh seeds it can fit worse than its neighbours. This step re-measures the
``candidates`` accepted sets with the smallest distance on ``seeds`` seeds of their own
(``SeedSequence(master_seed, spawn_key=(2, i))``: neither the calibration's evaluations nor the
validation draw from this stream) and writes the one with the smallest distance there as
``calibrated.yaml``, with every candidate's scores in ``selection.csv``.

Run: ``python -m sim.calibrate.select [CALIBRATION] [--out DIR] [--candidates K] [--seeds N]``
(``make calibrate`` runs it after the fit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.calibrate.config import Calibration, load_calibration
from sim.calibrate.fit import _atomic, write_calibrated_scenario
from sim.calibrate.patterns import STATISTICS
from sim.calibrate.smc import BandDistance
from sim.calibrate.validation import measure, stream_seeds
from sim.runner.executors import ExecutorSpec

SELECTION_STREAM = 2  # spawn-key prefix of selection seeds (validation uses 1)


def selection_seeds(master_seed: int, count: int) -> list[int]:
    return stream_seeds(master_seed, SELECTION_STREAM, count)


def candidates_of(posterior: pd.DataFrame, count: int) -> list[int]:
    """Rows of the ``count`` accepted sets with the smallest distance (ties: larger weight)."""
    order = np.lexsort((-posterior["weight"].to_numpy(), posterior["distance"].to_numpy()))
    return [int(i) for i in order[:count]]


def score(calibration: Calibration, records: list[dict[str, Any]]) -> tuple[float, int]:
    """The calibration's distance over pooled records, and how many targets are in band."""
    statistics = {
        calibration.statistic_of(name): STATISTICS[calibration.statistic_of(name)].compute(records)
        for name in calibration.targets
    }
    met = 0
    for name, target in calibration.targets.items():
        value = statistics[calibration.statistic_of(name)]
        low, high = target.band
        met += bool(np.isfinite(value) and low <= value <= high)
    return BandDistance(calibration)(statistics, {}), met


def select_presets(
    calibration: Calibration,
    priors: dict[str, tuple[float, float, bool]],
    out_dir: Path,
    candidates: int,
    seeds: int,
    executor: ExecutorSpec,
    quiet: bool = False,
) -> pd.DataFrame:
    """Re-measure the best candidates on fresh seeds; write ``calibrated.yaml`` and
    ``selection.csv`` in ``out_dir``; return the selection table (chosen row first).

    calibration: the calibration file's contents
    priors: dotted key -> (low, high, integer), as the calibration loaded them
    out_dir: the calibration's output folder (holds posterior.parquet)
    candidates: how many of the accepted sets with the smallest distance to re-measure
    seeds: seeds each candidate runs on
    executor: where the runs execute
    quiet: no progress bar
    """
    posterior = pd.read_parquet(out_dir / "posterior.parquet")
    rows = candidates_of(posterior, candidates)
    fresh = selection_seeds(calibration.master_seed, seeds)
    table = []
    bar = tqdm(total=len(rows) * seeds, desc="select presets", unit="seed", disable=quiet)
    try:
        for row in rows:
            values = {
                key: int(round(float(posterior.at[row, key])))
                if priors[key][2]
                else float(posterior.at[row, key])
                for key in priors
            }
            records = measure(calibration, values, fresh, executor, progress=lambda: bar.update())
            distance, met = score(calibration, records)
            table.append(
                {
                    "posterior_row": row,
                    "distance_in_fit": float(posterior.at[row, "distance"]),
                    "distance_on_fresh_seeds": distance,
                    "targets_met_on_fresh_seeds": met,
                    **values,
                }
            )
    finally:
        bar.close()
    frame = pd.DataFrame(table).sort_values(
        ["distance_on_fresh_seeds", "distance_in_fit"], kind="stable"
    )
    frame = frame.reset_index(drop=True)
    _atomic(out_dir / "selection.csv", lambda p: frame.to_csv(p, index=False))
    chosen = int(frame.at[0, "posterior_row"])
    write_calibrated_scenario(
        out_dir / "calibrated.yaml",
        calibration,
        priors,
        posterior,
        row=chosen,
        how=(
            f"of the {len(rows)} accepted sets with the smallest distance, the one that met\n"
            f"# the targets most closely on {seeds} fresh seeds (selection.csv)"
        ),
    )
    return frame


def main(argv: list[str] | None = None) -> int:
    from sim.scenario.errors import InputError

    parser = argparse.ArgumentParser(prog="python -m sim.calibrate.select", description=__doc__)
    parser.add_argument("calibration", nargs="?", default="calibration/default.yaml")
    parser.add_argument("--out", type=Path, default=None, help="the calibration's folder")
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.candidates < 1 or args.seeds < 1:
            raise InputError("--candidates and --seeds: expected at least 1")
        calibration, priors = load_calibration(args.calibration)
        out_dir = args.out or Path("results/calibration") / calibration.name
        if not (out_dir / "posterior.parquet").is_file():
            raise InputError(
                f"{out_dir}/posterior.parquet: not found; expected a finished calibration "
                "(run make calibrate first)"
            )
    except InputError as exc:
        sys.stderr.write(f"select presets: error: {exc}\n")
        return 2
    spec = ExecutorSpec(kind="process", workers=args.workers)
    frame = select_presets(
        calibration, priors, out_dir, args.candidates, args.seeds, spec, quiet=args.quiet
    )
    best = frame.iloc[0]
    print(
        f"presets: accepted set {int(best['posterior_row'])} "
        f"(distance {best['distance_in_fit']:.3f} in the fit, "
        f"{best['distance_on_fresh_seeds']:.3f} on {args.seeds} fresh seeds, "
        f"{int(best['targets_met_on_fresh_seeds'])} of {len(calibration.targets)} targets) "
        f"-> {out_dir / 'calibrated.yaml'}; every candidate: {out_dir / 'selection.csv'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
