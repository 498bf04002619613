"""One analysis per experiment: tables with intervals, figures, and a reading made from the numbers.

Each ``analyse_*`` takes an experiment's results and returns a ``Section``
(``sim.report.section``); ``ANALYSES`` maps each experiment's name to its analysis, in the order
the report shows them. What the analyses share lives in ``common``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sim.report.analyses.decomposition import analyse_decomposition
from sim.report.analyses.indonesia import analyse_indonesia
from sim.report.analyses.regimes import analyse_regimes
from sim.report.analyses.resilience import analyse_resilience
from sim.report.analyses.sensitivity import analyse_morris, analyse_sobol
from sim.report.analyses.where_each_regime_wins import analyse_where_each_regime_wins
from sim.report.analyses.where_top_down_works import analyse_where_top_down_works
from sim.report.results import ExperimentResults
from sim.report.section import Section

ANALYSES: dict[str, Callable[[ExperimentResults], Section]] = {
    "regimes": analyse_regimes,
    "regimes_posterior": partial(
        analyse_regimes,
        key="regimes_posterior",
        title="1b. Regimes over the calibrated posterior",
        question="Do the regime verdicts hold when each replicate also draws its parameters from "
        "the calibration's accepted sets, not only its world?",
    ),
    "decomposition": analyse_decomposition,
    "where_top_down_works": analyse_where_top_down_works,
    "resilience": analyse_resilience,
    "sensitivity_morris": analyse_morris,
    "sensitivity_sobol": analyse_sobol,
    "indonesia": analyse_indonesia,
    "where_each_regime_wins": analyse_where_each_regime_wins,
}
