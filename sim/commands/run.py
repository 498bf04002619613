"""``klaster run SCENARIO``: one simulation, its outcome tables (with their dictionary in
``columns.csv``), a manifest and a headline table."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tqdm import tqdm

from sim.commands.arguments import add_set_option, seed_number, step_count
from sim.model.simulate import simulate
from sim.runner.finite import check_finite
from sim.runner.folders import check_target, folder_name
from sim.runner.numbers import number
from sim.runner.outputs import atomic_folder, write_dictionary, write_json, write_table
from sim.runner.provenance import provenance
from sim.runner.tables import run_summary, va_index
from sim.scenario.errors import RunFailed, clip
from sim.scenario.files import load_scenario

HEADLINE_ROWS = (
    ("va_index", "Value added index (run mean / policy start - 1)"),
    ("value_added", "Value added per quarter (final year)"),
    ("va_per_worker", "Value added per worker"),
    ("market_share", "Market share vs outside competitors"),
    ("export_share", "Export share of sales"),
    ("employment", "Employment"),
    ("survival", "Survival of founding firms"),
    ("vertical_linkage", "Inputs sourced inside the cluster"),
    ("horizontal_density", "Horizontal tie density"),
    ("support_gini", "Gini of support across clusters"),
    ("share_unsupported", "Share of clusters never supported"),
    ("budget_spent", "Budget spent"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario YAML file or preset name (e.g. top_down)")
    parser.add_argument(
        "--seed", type=seed_number, default=0, help="the run's seed (default: %(default)s)"
    )
    parser.add_argument(
        "--steps",
        type=step_count,
        default=None,
        help="policy quarters (default: the scenario's run.steps)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: results/runs/SCENARIO-seedN)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder that is not a run result; klaster's files there are "
        "replaced, every other file is left alone",
    )
    add_set_option(parser, "override a scenario parameter")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    out = args.out or Path("results") / "runs" / folder_name(
        f"{scenario.name}-seed{args.seed}", f"{args.scenario}: name"
    )
    check_target(out, "run", args.overwrite)  # refuse now, not after the run
    started = time.perf_counter()
    total = args.steps or scenario.run.steps
    with tqdm(total=total, desc=scenario.name[:30], unit="quarter", disable=args.quiet) as bar:
        try:
            result = simulate(
                scenario, args.seed, args.steps, on_step=lambda done, _: bar.update(1)
            )
        except (ArithmeticError, ValueError, IndexError) as exc:
            raise RunFailed(
                f"{args.scenario}: the run failed ({type(exc).__name__}: {clip(str(exc), 120)}); "
                "the parameters drive the model outside its range"
            ) from None
    check_finite(result.summary, result.aggregate, str(args.scenario))
    wall = time.perf_counter() - started
    products = list(scenario.world.products)
    with atomic_folder(out, "run", args.overwrite) as folder:
        write_dictionary(
            folder,
            [
                write_table(run_summary(scenario, args.seed, result), folder, "summary", "summary"),
                write_table(result.aggregate, folder, "aggregate", "aggregate"),
                write_table(result.clusters, folder, "clusters", "cluster", products),
            ],
        )
        write_json(
            {
                "scenario": scenario.name,
                "scenario_hash": scenario.content_hash(),
                "scenario_resolved": scenario.model_dump(mode="json"),
                "seed": args.seed,
                "steps": total,
                "wall_seconds": round(wall, 3),
                "summary": result.summary,
                **provenance(),
            },
            folder / "manifest.json",
        )
    print(f"\n{scenario.name}, seed {args.seed}, {total} quarters in {wall:.2f} s -> {out}")
    width = max(len(label) for _, label in HEADLINE_ROWS)
    headline = {**result.summary, "va_index": va_index(result.aggregate["value_added"])}
    for key, label in HEADLINE_ROWS:
        print(f"  {label:<{width}}  {number(headline[key]):>14}")
    return 0
