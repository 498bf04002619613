"""The EMA Workbench adapter (sim.runner.ema) driven by EMA's own ``perform_experiments``.

Needs the ``ema`` extra (``make install`` installs it)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sim.runner.ema import DEFAULT_OUTCOMES, ema_model
from sim.scenario.errors import InputError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # EMA warns that optional parallel back ends are missing
    import ema_workbench

SMALL = {"world.n_clusters": 8, "run.burn_in": 2}


def _model(**kwargs):
    settings = {"replicates": 2, "steps": 3, "overrides": SMALL, **kwargs}
    return ema_model("top_down", **settings)


def test_parameters_come_from_the_schema_and_outcomes_from_the_registry() -> None:
    model = _model(
        uncertainties=["volatility", "market.growth_drift"],
        levers={"planning_quality": None, "n_designated": (2, 6)},
    )
    ranges = {p.name: (p.lower_bound, p.upper_bound) for p in model.uncertainties}
    assert ranges["volatility"] == (0.0, 0.5)  # market.volatility's bounds in the schema
    assert "growth_drift" in ranges  # a dotted key gets its flat name
    levers = {p.name: p for p in model.levers}
    assert (levers["planning_quality"].lower_bound, levers["planning_quality"].upper_bound) == (
        0.0,
        1.0,
    )
    assert isinstance(levers["n_designated"], ema_workbench.IntegerParameter)
    assert [o.name for o in model.outcomes] == list(DEFAULT_OUTCOMES)


def test_perform_experiments_runs_with_replicates_and_paired_gains() -> None:
    model = _model(uncertainties=["volatility"], levers=["planning_quality"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = ema_workbench.perform_experiments(model, scenarios=2, policies=2)
    assert len(experiments) == 4
    for name in DEFAULT_OUTCOMES:
        assert outcomes[name].shape == (4,)
    assert np.isfinite(outcomes["va_gain"]).all()
    # both policies of one scenario share its no-policy twin (same world, same seeds), so their
    # gains differ exactly by their value added: the gain is paired, not re-drawn
    for _, rows in experiments.groupby("scenario"):
        a, b = rows.index[:2]
        assert outcomes["va_gain"][a] - outcomes["va_gain"][b] == pytest.approx(
            outcomes["cumulative_value_added"][a] - outcomes["cumulative_value_added"][b]
        )


def test_replicates_are_common_seeds_averaged() -> None:
    one = _model(uncertainties=["volatility"], replicates=1).function
    two = _model(uncertainties=["volatility"], replicates=2).function
    a, b = one(volatility=0.1), two(volatility=0.1)
    assert a == one(volatility=0.1)  # reproducible
    assert a["cumulative_value_added"] != b["cumulative_value_added"]  # a second seed counts


def test_bad_requests_are_input_errors() -> None:
    with pytest.raises(InputError, match="not a run outcome"):
        _model(outcomes=["value_add"])
    with pytest.raises(InputError, match=r"leaves the schema's \(0, 1\)"):
        _model(levers={"planning_quality": (0.5, 2.0)})
    with pytest.raises(InputError, match="not a scenario parameter"):
        _model(uncertainties=["volatilty"])
    with pytest.raises(InputError, match="both an uncertainty and a lever"):
        _model(uncertainties=["volatility"], levers=["market.volatility"])
