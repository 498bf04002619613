"""``klaster report``: build the self-contained HTML report from experiment result folders.

Looks for sweep output folders under ``--results`` (one per experiment), analyses each it knows,
adds the validation results if ``make validate`` wrote them, and writes one HTML page. With
``--summaries`` it also writes the small curated tables (CSV and Markdown) that may be committed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from sim.report.analyses import ANALYSES
from sim.report.results import find_results
from sim.report.section import Section
from sim.runner.numbers import MIN_SEEDS, few_seeds_warning
from sim.scenario.errors import InputError

# experiments whose intervals are over seeds (the sensitivity screens estimate over the design)
SEEDED = (
    "regimes",
    "regimes_posterior",
    "decomposition",
    "where_top_down_works",
    "resilience",
    "indonesia",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Build one self-contained HTML page from the experiments' result folders (those `make "
        "experiments` or `klaster sweep` wrote): per experiment, tables with 95% intervals (from "
        f"{MIN_SEEDS} seeds on), figures and a reading generated from the numbers."
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="folder holding one sweep output folder per experiment (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/report.html"),
        metavar="FILE",
        help="the HTML page to write (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out even if it is not a klaster report",
    )
    parser.add_argument(
        "--summaries",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the small curated tables (CSV and Markdown) that may be committed, "
        "e.g. results/summary",
    )
    parser.add_argument(
        "--figures",
        type=Path,
        default=None,
        metavar="DIR",
        help="also export every figure to DIR as PNG (300 dpi), SVG and PDF (needs Chromium; "
        "checked before anything is written)",
    )


def build_sections(results_root: Path) -> tuple[list[Section], list[str]]:
    """Analyse every known experiment found under ``results_root``; name the missing ones."""
    found = find_results(results_root)
    sections = []
    for name in ANALYSES:
        if name not in found:
            continue
        section = ANALYSES[name](found[name])
        replicates = found[name].manifest.get("design", {}).get("replicates")
        if isinstance(replicates, int) and replicates < MIN_SEEDS and name in SEEDED:
            section.warnings.append(few_seeds_warning(replicates))
        sections.append(section)
    missing = [name for name in ANALYSES if name not in found]
    return sections, missing


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub Markdown table (no tabulate dependency)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "n/a" if value != value else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


def write_summaries(sections: list[Section], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for section in sections:
        for name, table in section.summaries.items():
            csv = folder / f"{name}.csv"
            table.to_csv(csv, index=False, float_format="%.6g")
            md = folder / f"{name}.md"
            md.write_text(markdown_table(table), encoding="utf-8")
            written += [csv, md]
    return written


def write_page(page: str, out: Path, overwrite: bool) -> None:
    """Write the page whole (temporary file, then rename); never over a file that is not a
    klaster report, unless asked."""
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name such as report.html")
    if out.is_file() and not overwrite:
        with open(out, "rb") as handle:
            head = handle.read(4096)
        if b"<title>klaster" not in head:
            raise InputError(
                f"--out {out}: exists and is not a klaster report; choose another --out, or add "
                "--overwrite to replace it"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp")
    try:
        temp.write_text(page, encoding="utf-8")
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)


def main(args: argparse.Namespace) -> int:
    if not args.results.is_dir():
        raise InputError(f"--results {args.results}: no such folder (run `make experiments`)")
    if args.figures is not None:
        from sim.report.export import export_available

        ok, reason = export_available()
        if not ok:
            raise InputError(f"--figures {args.figures}: {reason}")
    sections, missing = build_sections(args.results)
    validation_path = args.results / "validation" / "validation.json"
    validation = (
        json.loads(validation_path.read_text(encoding="utf-8"))
        if validation_path.is_file()
        else None
    )
    if not sections and validation is None:
        raise InputError(f"{args.results}: no experiment results found (run `make experiments`)")
    from sim.report.html import render

    page = render(sections, validation, missing=missing)
    write_page(page, args.out, args.overwrite)
    print(f"report: {len(sections)} experiment(s) -> {args.out}")
    if missing:
        print(f"report: not found under {args.results}: {', '.join(missing)}")
    if args.summaries is not None:
        written = write_summaries(sections, args.summaries)
        if validation is not None:
            table = pd.DataFrame(validation["checks"])[
                ["name", "observed_text", "target", "passed"]
            ]
            path = args.summaries / "validation.md"
            path.write_text(markdown_table(table), encoding="utf-8")
            written.append(path)
        print(f"report: {len(written)} summary files -> {args.summaries}")
    if args.figures is not None:
        from sim.report.export import export_figures

        named = [figure for section in sections for figure in section.figures]
        written = export_figures(named, args.figures)
        print(f"report: {len(written)} figure files (PNG 300 dpi, SVG, PDF) -> {args.figures}")
    return 0
