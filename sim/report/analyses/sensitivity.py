"""Experiments 5a and 5b, sensitivity: which uncertain parameters move the value added index and
the bottom-up minus top-down gap (Morris screening), and how much of their variance each of the
few that matter explains, alone and with interactions (Sobol indices)?

Both rebuild the design's unit samples from the experiment file and analyse per-point means
with SALib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report import figures
from sim.report.analyses.common import HEADLINE, design_text
from sim.report.results import ExperimentResults
from sim.report.section import Section


def _problem_and_outputs(results: ExperimentResults):
    """The experiment, SALib's problem, the design's unit samples, and per scenario the mean
    headline per design point (plus the bottom-up minus top-down gap when both are present)."""
    from sim.runner.design import unit_samples
    from sim.runner.experiment import Experiment

    settings = dict(results.manifest["experiment"]["settings"])
    experiment = Experiment.model_validate(settings)
    factors = list(experiment.vary)
    seed = experiment.design.seed if experiment.design.seed is not None else experiment.master_seed
    unit = unit_samples(experiment.design, len(factors), seed)
    points = len(unit)
    ok = results.outcomes
    means = ok.groupby("point")[HEADLINE].mean()
    scenarios = ok.groupby("point")["scenario"].first()
    outputs: dict[str, np.ndarray] = {}
    for b, name in enumerate(dict.fromkeys(scenarios.sort_index())):
        outputs[name] = means.reindex(range(b * points, (b + 1) * points)).to_numpy()
    if "top_down" in outputs and "bottom_up" in outputs:
        outputs["bottom_up - top_down"] = outputs["bottom_up"] - outputs["top_down"]
    problem = {
        "num_vars": len(factors),
        "names": [f.split(".")[-1] for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
    return experiment, problem, unit, outputs


def analyse_morris(results: ExperimentResults) -> Section:
    from SALib.analyze import morris

    section = Section(
        "sensitivity_morris",
        "5a. Sensitivity: Morris screening",
        "Which uncertain parameters move the headline outcome (value added index) and the "
        "bottom-up minus top-down gap?",
        design_text(results),
        facts=results.facts(),
    )
    experiment, problem, unit, outputs = _problem_and_outputs(results)
    rows = []
    for outcome, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        res = morris.analyze(
            problem, unit, y, num_levels=experiment.design.levels, seed=1, print_to_console=False
        )
        scale = 1.0  # the index is already relative to each run's start
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": name,
                    "mu_star": res["mu_star"][i] / scale,
                    "mu_star_conf": res["mu_star_conf"][i] / scale,
                    "sigma": res["sigma"][i] / scale,
                    "sigma_conf": 0.0,
                    "mu": res["mu"][i] / scale,
                }
            )
    table = pd.DataFrame(rows)
    section.summaries["sensitivity_morris"] = table
    if table.empty:
        return section
    section.tables.append(
        (
            "Morris indices of the value added index (mu*: mean absolute "
            "elementary effect over the full range; sigma: its spread, non-linearity/interaction)",
            table.round(4),
        )
    )
    section.figures.append(
        (
            "morris",
            figures.sensitivity_bars(
                table,
                "Morris mu* (with 95% CI) and sigma",
                ["mu_star", "sigma"],
            ),
        )
    )
    reading = []
    for outcome, g in table.groupby("outcome", sort=False):
        top = g.sort_values("mu_star", ascending=False).head(4)
        reading.append(
            f"{outcome}: largest mu* "
            + ", ".join(f"{r.factor} ({r.mu_star:.3f}, mu {r.mu:+.3f})" for r in top.itertuples())
            + "."
        )
    reps = results.manifest.get("design", {}).get("replicates", 1)
    reading.append(
        "mu* is in index points per full factor range; the sign of mu tells the direction. "
        f"{reps} seed(s) averaged per point: run-to-run noise that survives the averaging "
        "inflates sigma and puts a floor under every mu*, so only factors well above that floor "
        "(and with |mu| close to mu*) are distinguishable from noise."
    )
    section.reading = reading
    return section


def analyse_sobol(results: ExperimentResults) -> Section:
    from SALib.analyze import sobol

    section = Section(
        "sensitivity_sobol",
        "5b. Sensitivity: Sobol indices",
        "How much of the variance of the headline outcome and of the bottom-up minus top-down gap "
        "does each of the few parameters that matter explain, alone (S1) and with interactions "
        "(ST)?",
        design_text(results),
        facts=results.facts(),
    )
    experiment, problem, _, outputs = _problem_and_outputs(results)
    rows = []
    for outcome, y in outputs.items():
        if not np.isfinite(y).all():
            continue
        res = sobol.analyze(
            problem,
            y,
            calc_second_order=experiment.design.calc_second_order,
            seed=1,
            print_to_console=False,
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": name,
                    "S1": res["S1"][i],
                    "S1_conf": res["S1_conf"][i],
                    "ST": res["ST"][i],
                    "ST_conf": res["ST_conf"][i],
                }
            )
    table = pd.DataFrame(rows)
    section.summaries["sensitivity_sobol"] = table
    if table.empty:
        return section
    section.tables.append(("Sobol indices with 95% confidence half-widths", table.round(4)))
    section.figures.append(
        ("sobol", figures.sensitivity_bars(table, "Sobol S1 and ST (95% CI)", ["S1", "ST"]))
    )
    reading = []
    for outcome, g in table.groupby("outcome", sort=False):
        top = g.sort_values("ST", ascending=False)
        reading.append(
            f"{outcome}: "
            + ", ".join(
                f"{r.factor} S1 {r.S1:.2f}±{r.S1_conf:.2f}, ST {r.ST:.2f}±{r.ST_conf:.2f}"
                for r in top.itertuples()
            )
            + f"; sum of S1 = {g['S1'].sum():.2f} (the rest: interactions, other factors held "
            "fixed, and seed noise)."
        )
    section.reading = reading
    return section
