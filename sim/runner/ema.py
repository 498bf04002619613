"""klaster as an EMA Workbench model: uncertainties and levers from the schema's bounds, outcomes
from the outcome registry, replicates on common seeds and the paired no-policy gain handled.

A user writes (``pip install "klaster[ema]"``)::

    from ema_workbench import perform_experiments
    from sim.runner.ema import ema_model

    model = ema_model("top_down", uncertainties=["volatility", "growth_drift"],
                      levers={"planning_quality": None, "n_designated": (5, 50)}, replicates=3)
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)

Parameters are named as ``ClusterModel`` keywords (``volatility``, ``planning_quality``,
``policy__monitoring``; ``sim.scenario.parameters``) and take the schema's range unless a
narrower one is given. Each experiment runs ``replicates`` seeds, the same seeds for every
experiment (common random numbers), each paired with a no-policy twin: the same world and seed
with the policy section of the ``no_policy`` preset. Outcomes are means over the replicates.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.model.outcomes import names
from sim.model.simulate import simulate
from sim.runner.seeds import run_seed
from sim.scenario.errors import InputError
from sim.scenario.files import load_scenario
from sim.scenario.parameters import dotted_key, flat_names, parameters
from sim.scenario.presets import BASELINE
from sim.scenario.schema import Scenario

# Outcomes computed here from a run and its twin, beside the registry's summary outcomes.
DERIVED: dict[str, str] = {
    "value_added_index": "mean value added over the run / value added at policy start - 1",
    "va_gain": "cumulative value added minus the no-policy twin's (same world, same seed)",
    "va_gain_per_budget": "va_gain per unit of budget spent (NaN when nothing was spent)",
}
DEFAULT_OUTCOMES: tuple[str, ...] = (
    "value_added_index",
    "va_gain",
    "va_gain_per_budget",
    "cumulative_value_added",
    "employment",
    "survival",
    "budget_spent",
)

Ranges = Sequence[str] | Mapping[str, tuple[float, float] | None]


@dataclass
class KlasterExperiment:
    """The function EMA calls with one experiment's parameter values (picklable, so EMA's
    multiprocessing evaluator can ship it)."""

    base: Scenario
    keys: dict[str, str]  # EMA parameter name -> dotted scenario key
    outcomes: tuple[str, ...]
    replicates: int = 1
    master_seed: int = 1
    steps: int | None = None
    _twins: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict, repr=False)

    def __call__(self, **values: Any) -> dict[str, float]:
        overrides = {self.keys[name]: _plain(value) for name, value in values.items()}
        scenario = _with(self.base, overrides)
        twin = scenario.model_copy(update={"policy": load_scenario(BASELINE).policy})
        rows = []
        for replicate in range(self.replicates):
            seed = run_seed(self.master_seed, 0, replicate, "common")
            rows.append(self._outcomes(scenario, twin, seed))
        return {name: float(np.nanmean([row[name] for row in rows])) for name in self.outcomes}

    def _outcomes(self, scenario: Scenario, twin: Scenario, seed: int) -> dict[str, float]:
        result = simulate(scenario, seed, self.steps)
        row = dict(result.summary)
        values = result.aggregate["value_added"].to_numpy(float)
        row["value_added_index"] = values.mean() / values[0] - 1 if values[0] else np.nan
        baseline = self._twin(twin, seed)
        row["va_gain"] = row["cumulative_value_added"] - baseline["cumulative_value_added"]
        spent = row["budget_spent"]
        row["va_gain_per_budget"] = row["va_gain"] / spent if spent > 0 else np.nan
        return row

    def _twin(self, twin: Scenario, seed: int) -> dict[str, float]:
        """The no-policy twin's summary; kept, since every policy of a scenario shares it."""
        key = (twin.content_hash(), seed)
        if key not in self._twins:
            if len(self._twins) > 4096:
                self._twins.clear()
            self._twins[key] = simulate(twin, seed, self.steps).summary
        return self._twins[key]


def ema_model(
    scenario: str | Scenario = "top_down",
    *,
    uncertainties: Ranges = (),
    levers: Ranges = (),
    outcomes: Iterable[str] = DEFAULT_OUTCOMES,
    replicates: int = 1,
    master_seed: int = 1,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    name: str = "klaster",
):
    """An ``ema_workbench.Model`` running klaster.

    scenario: the policy regime to explore (a preset name, a file or a Scenario)
    uncertainties: parameters of the world (names or dotted keys); a list takes the schema's
        ranges, a dict ``{name: (low, high)}`` narrows them (``None``: the schema's)
    levers: parameters of the policy, given the same way
    outcomes: summary outcomes (``sim.model.outcomes``) and ``value_added_index``, ``va_gain``,
        ``va_gain_per_budget``
    replicates: seeds per experiment, the same for every experiment; outcomes are their means
    master_seed: root of the replicates' seeds (``sim.runner.seeds``)
    steps: policy quarters per run (default: the scenario's run.steps)
    overrides: dotted keys fixed in every run (e.g. a smaller world)
    name: the EMA model's name
    """
    ema = _ema()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, None)
    if overrides:
        base = _with(base, dict(overrides))
    chosen = tuple(outcomes)
    known = set(names("summary", identifiers=False)) | set(DERIVED)
    unknown = [o for o in chosen if o not in known]
    if unknown:
        raise InputError(
            f"outcomes: {', '.join(unknown)}: not a run outcome; one of {', '.join(sorted(known))}"
        )
    if replicates < 1:
        raise InputError(f"replicates: expected at least 1, got {replicates}")
    u_params, u_keys = _parameters(ema, uncertainties, "uncertainties")
    l_params, l_keys = _parameters(ema, levers, "levers")
    both = set(u_keys) & set(l_keys)
    if both:
        raise InputError(f"{', '.join(sorted(both))}: both an uncertainty and a lever")
    function = KlasterExperiment(base, {**u_keys, **l_keys}, chosen, replicates, master_seed, steps)
    model = ema.Model(name, function=function)
    model.uncertainties = u_params
    model.levers = l_params
    model.outcomes = [ema.ScalarOutcome(o) for o in chosen]
    return model


def _parameters(ema: Any, ranges: Ranges, argument: str) -> tuple[list[Any], dict[str, str]]:
    """EMA parameters from names or dotted keys, bounded by the schema (or narrower)."""
    items = ranges.items() if isinstance(ranges, Mapping) else ((r, None) for r in ranges)
    made, keys = [], {}
    for given, narrowed in items:
        key = given if given in parameters() else dotted_key(given, argument)
        spec = parameters()[key]
        label = given if key != given else _flat_label(key)
        low, high = narrowed if narrowed is not None else (spec.low, spec.high)
        if spec.kind is bool:
            made.append(ema.BooleanParameter(label))
        elif low is None or high is None:
            raise InputError(
                f"{argument}: {given}: the schema leaves it unbounded; give a range, "
                f"e.g. {{{given!r}: (low, high)}}"
            )
        elif (spec.low is not None and low < spec.low) or (
            spec.high is not None and high > spec.high
        ):
            raise InputError(
                f"{argument}: {given}: range ({low}, {high}) leaves the schema's "
                f"({spec.low}, {spec.high})"
            )
        elif spec.kind is int:
            made.append(ema.IntegerParameter(label, int(low), int(high)))
        else:
            made.append(ema.RealParameter(label, float(low), float(high)))
        keys[label] = key
    return made, keys


def _flat_label(key: str) -> str:
    """The keyword name of a dotted key: its leaf when that is unique, else section__name."""
    leaf = key.rsplit(".", 1)[1]
    return leaf if flat_names().get(leaf) == key else key.replace(".", "__")


def _with(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    from sim.scenario.files import apply_overrides, build_scenario

    data = apply_overrides(scenario.model_dump(), overrides)
    return build_scenario(data, f"{scenario.name} (with EMA parameters)")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _ema() -> Any:
    """ema_workbench, or an InputError saying how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns about optional parallel back ends
            import ema_workbench
    except ImportError:
        raise InputError(
            'EMA Workbench is not installed: pip install "klaster[ema]" (or ema-workbench)'
        ) from None
    return ema_workbench
