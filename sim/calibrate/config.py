"""The calibration file: uncertain parameters and their priors, targets with tolerances and
sources, seeds per evaluation, the run budget. One file drives ``klaster calibrate`` and
``klaster validate-patterns``, so the calibration and its check share one set of targets.

Validated like scenario files: unknown keys are errors, and a message names the file and the key.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.calibrate.patterns import STATISTICS
from sim.scenario.errors import InputError, describe_validation_error
from sim.scenario.files import read_yaml_mapping
from sim.scenario.schema import Scenario

DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prior(Strict):
    """A uniform prior on [low, high]; either end defaults to the schema's bound."""

    low: float | None = Field(None, description="Lower end; defaults to the schema's minimum.")
    high: float | None = Field(None, description="Upper end; defaults to the schema's maximum.")
    source: str = Field("", description="Why this range (a study, the brief, or 'assumed').")


class Target(Strict):
    """A band a statistic should fall in: value +- tolerance, or low and/or high."""

    statistic: str | None = Field(
        None, description="A statistic of sim.calibrate.patterns; defaults to the target's name."
    )
    value: float | None = Field(None, description="Central value (with tolerance).")
    tolerance: float | None = Field(None, gt=0, description="Half-width of the band around value.")
    low: float | None = Field(None, description="Lowest accepted value (instead of value).")
    high: float | None = Field(None, description="Highest accepted value (instead of value).")
    scale: float | None = Field(
        None,
        gt=0,
        description="Distance unit: a miss of one scale counts 1. Defaults to the tolerance or "
        "the band's half-width; a one-sided band needs it.",
    )
    weight: float = Field(1.0, ge=0, description="Weight in the calibration distance.")
    source: str = Field(min_length=1, description="Where the number comes from.")

    @model_validator(mode="after")
    def _band(self) -> Target:
        if self.value is not None:
            if self.tolerance is None or self.low is not None or self.high is not None:
                raise ValueError("give value with tolerance, or low and/or high (not both)")
        elif self.low is None and self.high is None:
            raise ValueError("give value and tolerance, or low and/or high")
        elif self.tolerance is not None:
            raise ValueError("tolerance goes with value; with low/high give scale")
        elif self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high (got {self.low}, {self.high})")
        if self.unit() is None:
            raise ValueError("a one-sided band (low or high alone) needs scale")
        return self

    @property
    def band(self) -> tuple[float, float]:
        if self.value is not None:
            return self.value - self.tolerance, self.value + self.tolerance  # type: ignore[operator]
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return low, high

    def unit(self) -> float | None:
        if self.scale is not None:
            return self.scale
        if self.tolerance is not None:
            return self.tolerance
        if self.low is not None and self.high is not None:
            return (self.high - self.low) / 2
        return None

    def miss(self, observed: float) -> float:
        """How far outside the band, in scales (0 inside; a missing number counts 10)."""
        if observed is None or not math.isfinite(observed):
            return 10.0
        low, high = self.band
        return max(0.0, low - observed, observed - high) / self.unit()  # type: ignore[operator]

    def text(self) -> str:
        low, high = self.band
        if self.value is not None:
            return f"{self.value:g} +- {self.tolerance:g}"
        if math.isinf(high):
            return f">= {low:g}"
        if math.isinf(low):
            return f"<= {high:g}"
        return f"{low:g} to {high:g}"


class Scenarios(Strict):
    world: str = Field("no_policy", description="The no-policy world of the stylized facts.")
    programme: str = Field("top_down", description="The top-down programme of fact 4.")
    indonesia: str = Field(
        "indonesia", description="The Indonesian world of the historical record."
    )


class Budget(Strict):
    particles: int = Field(
        200, ge=2, le=100_000, description="Accepted parameter sets each population."
    )
    populations: int = Field(6, ge=1, le=1000, description="ABC-SMC populations at most.")
    max_evaluations: int = Field(
        2000, ge=1, description="Stop after this many model evaluations (each on every seed)."
    )
    max_minutes: float = Field(60, gt=0, description="Stop starting populations after this.")
    min_acceptance_rate: float = Field(
        0.01, ge=0, le=1, description="Stop when a population accepts fewer than this share."
    )
    minimum_epsilon: float = Field(
        0.0, ge=0, description="Stop once the tolerance reaches this (0: every target in band)."
    )


class Validation(Strict):
    seeds: int = Field(32, ge=1, le=100_000, description="Seeds validate-patterns runs by default.")
    master_seed: int = Field(
        20260313, ge=0, description="Root of the validation seeds (a stream the fit never sees)."
    )


class Calibration(Strict):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    scenarios: Scenarios = Field(default_factory=Scenarios)
    set: dict[str, Any] = Field(
        default_factory=dict, description="Dotted scenario keys fixed in every run."
    )
    steps: int = Field(40, ge=16, le=100_000, description="Policy quarters of default-world runs.")
    shock_step: int = Field(
        12, ge=4, le=100_000, description="Quarter of the default-world shocks."
    )
    historical_shock_step: int = Field(
        14, ge=1, description="Quarter of Cirebon's 2005 shock in the Indonesian scenario."
    )
    parameters: dict[str, Prior | None] = Field(
        min_length=1, description="Dotted scenario keys -> uniform prior (empty: schema bounds)."
    )
    targets: dict[str, Target] = Field(min_length=1, description="Statistic bands to reproduce.")
    seeds_per_evaluation: int = Field(4, ge=1, le=1000, description="Seeds of each evaluation.")
    master_seed: int = Field(13, ge=0, description="Root of the seeds of every evaluation.")
    budget: Budget = Field(default_factory=Budget)
    validation: Validation = Field(default_factory=Validation)

    @model_validator(mode="after")
    def _coherent(self) -> Calibration:
        for key in (*self.set, *self.parameters):
            if not DOTTED.match(key):
                raise ValueError(f"{key!r} is not a dotted scenario key such as market.volatility")
        for name, target in self.targets.items():
            statistic = target.statistic or name
            if statistic not in STATISTICS:
                raise ValueError(
                    f"targets.{name}: unknown statistic {statistic!r}; expected one of "
                    + ", ".join(STATISTICS)
                )
        if self.shock_step + 8 > self.steps:
            raise ValueError("shock_step + 8 must not exceed steps (exits are counted 8 quarters)")
        return self

    def statistic_of(self, target: str) -> str:
        return self.targets[target].statistic or target

    def groups(self) -> frozenset[str]:
        """The run groups the targets need."""
        return frozenset(STATISTICS[self.statistic_of(t)].needs for t in self.targets)


def schema_field(key: str):
    """The pydantic field of a dotted scenario key, or None when there is no such key."""
    model: Any = Scenario
    parts = key.split(".")
    for part in parts[:-1]:
        field = model.model_fields.get(part)
        if field is None or not isinstance(field.annotation, type):
            return None
        model = field.annotation
    return model.model_fields.get(parts[-1]) if hasattr(model, "model_fields") else None


def schema_bounds(key: str) -> tuple[float | None, float | None, bool]:
    """(minimum, maximum, integer) of a numeric scenario key from the schema."""
    field = schema_field(key)
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high, field.annotation is int


def load_calibration(path: str | Path) -> tuple[Calibration, dict[str, tuple[float, float, bool]]]:
    """Read and validate a calibration file; returns it and each parameter's (low, high, integer).

    Every problem is an InputError naming the file and the key.
    """
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        calibration = Calibration.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(str(path), exc) from None
    if calibration.name is None:
        calibration = calibration.model_copy(update={"name": path.stem})
    priors: dict[str, tuple[float, float, bool]] = {}
    for key, prior in calibration.parameters.items():
        field = schema_field(key)
        if field is None or field.annotation not in (int, float):
            raise InputError(f"{path}: parameters.{key}: expected a numeric scenario key")
        lo, hi, integer = schema_bounds(key)
        low = prior.low if prior and prior.low is not None else lo
        high = prior.high if prior and prior.high is not None else hi
        if low is None or high is None:
            raise InputError(
                f"{path}: parameters.{key}: the schema gives no {'low' if low is None else 'high'}"
                " bound; expected low and high in the file"
            )
        if (lo is not None and low < lo) or (hi is not None and high > hi) or not low < high:
            raise InputError(
                f"{path}: parameters.{key}: expected {lo} <= low < high <= {hi}, got {low}, {high}"
            )
        priors[key] = (float(low), float(high), integer)
    return calibration, priors
