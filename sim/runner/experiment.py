"""The experiment file schema: which scenarios, what varies and how, replicates, seeds, outcomes.

Validated like scenario files (unknown keys are errors, messages name the file and key path) so a
typo in a sweep that would run for hours is caught before anything runs or is written.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.scenario.errors import InputError, clip, describe_validation_error, shorten
from sim.scenario.files import read_yaml_mapping

DESIGN_KINDS = ("factorial", "lhs", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "normal", "lognormal", "triangular", "truncnormal")
# final, initial, mean, min, max, sum, std, change (final - initial), growth (final / initial - 1),
# mean_last_K (mean of the last K steps)
REDUCTION_PATTERN = re.compile(
    r"^(final|initial|mean|min|max|sum|std|change|growth|mean_last_[1-9]\d*)$"
)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must never silently do nothing."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Factor(Strict):
    """One varied scenario key: a list of values, a range {low, high}, or a distribution {dist}.

    In a factorial design a list is used as given and a range needs ``levels`` (evenly spaced,
    ends included). Sampling designs (lhs, sobol, morris) draw a point in [0, 1] per factor and map
    it through the factor: a list picks one of its values, a range scales linearly, a distribution
    uses its quantile function.
    """

    values: list[Any] | None = Field(
        None, min_length=1, max_length=10_000, description="Values to use, as given."
    )
    low: float | None = Field(
        None, description="Lower end (range, uniform, triangular, truncnormal)."
    )
    high: float | None = Field(
        None, description="Upper end (range, uniform, triangular, truncnormal)."
    )
    levels: int | None = Field(
        None, ge=2, le=10_000, description="Grid points of a factorial range."
    )
    integer: bool = Field(False, description="Round drawn values to whole numbers.")
    dist: Literal["uniform", "normal", "lognormal", "triangular", "truncnormal"] | None = Field(
        None, description="Distribution to draw from (sampling designs only)."
    )
    mean: float | None = Field(None, description="normal/truncnormal mean; lognormal: mean of log.")
    sd: float | None = Field(None, gt=0, description="normal/truncnormal sd; lognormal: sd of log.")
    mode: float | None = Field(None, description="Peak of a triangular distribution.")

    @model_validator(mode="after")
    def _coherent(self) -> Factor:
        if self.values is not None:
            extras = [
                k
                for k in ("low", "high", "levels", "dist", "mean", "sd", "mode")
                if getattr(self, k) is not None
            ]
            if extras:
                raise ValueError(f"a list of values takes no {', '.join(extras)}")
            return self
        if self.dist in (None, "uniform", "triangular", "truncnormal"):
            if self.low is None or self.high is None:
                what = "a range" if self.dist is None else f"dist {self.dist}"
                raise ValueError(f"{what} needs both low and high (or give a list of values)")
            if not self.low < self.high:
                raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        if self.dist in ("normal", "lognormal", "truncnormal") and (
            self.mean is None or self.sd is None
        ):
            raise ValueError(f"dist {self.dist} needs mean and sd")
        if self.dist == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high  # type: ignore[operator]
        ):
            raise ValueError("dist triangular needs a mode between low and high")
        if self.dist is not None and self.levels is not None:
            raise ValueError("levels applies to a range, not a distribution")
        return self

    @property
    def kind(self) -> str:
        if self.values is not None:
            return "values"
        return "range" if self.dist is None else "distribution"


class Design(Strict):
    """How points are chosen. Sampling designs use SALib and are reproducible from their seed."""

    kind: Literal["factorial", "lhs", "sobol", "morris"] = Field(
        "factorial",
        description="factorial: every combination; lhs, sobol (Saltelli), morris: SALib.",
    )
    samples: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="lhs: points; sobol: base samples N (a power of 2), giving N(D+2) points, or "
        "N(2D+2) with calc_second_order; morris: trajectories r, giving r(D+1) points.",
    )
    calc_second_order: bool = Field(
        False, description="sobol only: add the matrices for second-order indices."
    )
    levels: int = Field(4, ge=2, le=1000, description="morris only: grid levels (num_levels).")
    seed: int | None = Field(
        None, ge=0, le=2**32 - 1, description="Seed of the sampler; defaults to master_seed."
    )

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.kind == "factorial":
            if self.samples is not None:
                raise ValueError("a factorial design takes no samples (it runs every combination)")
        elif self.samples is None:
            raise ValueError(f"kind {self.kind} needs samples")
        elif self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(
                f"sobol samples must be a power of 2 for the Sobol sequence (got {self.samples})"
            )
        return self


class Summary(Strict):
    """A named outcome: one column of the per-step outcome table, reduced over steps."""

    column: str = Field(description="A column of the model's per-step aggregate outcome table.")
    reduce: str = Field(
        "final",
        description="final, initial, mean, min, max, sum, std, change (final - initial), "
        "growth (final / initial - 1), or mean_last_K (mean of the last K steps).",
    )

    @field_validator("reduce")
    @classmethod
    def _known(cls, value: str) -> str:
        if not REDUCTION_PATTERN.match(value):
            raise ValueError(
                f"unknown reduction {shorten(value)}: expected final, initial, mean, min, max, "
                "sum, std, change, growth or mean_last_K"
            )
        return value


class Experiment(Strict):
    """An experiment file: a sweep reproducible from this file alone."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Names the output folder; defaults to the file name.",
    )
    description: str = Field("", max_length=10_000)
    scenarios: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Base scenario files or preset names; a factor crossed with the design.",
    )
    design: Design = Field(default_factory=Design)
    set: dict[str, Any] = Field(
        default_factory=dict,
        max_length=1000,
        description="Dotted scenario keys -> one value, fixed in every run (e.g. a smaller world).",
    )
    vary: dict[str, Factor] = Field(
        default_factory=dict,
        max_length=100,
        description="Dotted scenario keys -> values, range or distribution.",
    )
    replicates: int = Field(1, ge=1, le=100_000, description="Seeds per point.")
    master_seed: int = Field(
        1,
        ge=0,
        le=2**63 - 1,
        description="Root of every run's seed; see seeds.",
    )
    seeds: Literal["independent", "common", "paired"] = Field(
        "independent",
        description="independent: run (point, replicate) gets SeedSequence(master_seed, "
        "spawn_key=(point, replicate)), a different world for every run. common: spawn_key="
        "(replicate,), so replicate r of every point (every scenario and design point) runs on "
        "the same seed: common random numbers, for comparing scenarios paired by replicate. "
        "paired: the scenarios at one design point share seeds and each design point gets new "
        "ones, for Morris/Sobol indices of a contrast between scenarios (the regime gap) and for "
        "scenario discovery (regimes compared within a point).",
    )
    posterior: str | None = Field(
        None,
        description="A posterior table written by klaster calibrate (posterior.parquet or .csv, "
        "relative to this file): every run applies one of its parameter sets, drawn from the "
        "run's seed (so common seeds share the draw too); vary still wins. Omit for the "
        "scenarios' own values.",
    )
    steps: int | None = Field(
        None, ge=1, le=100_000, description="Policy quarters per run; defaults to each scenario's."
    )
    outcomes: Literal["standard", "groups"] = Field(
        "standard",
        description="What each run computes: standard (the aggregate and per-cluster outcomes) "
        "or groups (adds designated versus other clusters and the named clusters' series per "
        "step: the Indonesian experiment). Part of every run's key.",
    )
    keep: Literal["final", "every_step"] = Field(
        "final", description="every_step also writes steps.parquet: one row per run and step."
    )
    summaries: dict[str, Summary] = Field(
        default_factory=dict,
        max_length=1000,
        description="Named outcomes added as columns of outcomes.parquet.",
    )

    @field_validator("scenarios", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("vary", mode="before")
    @classmethod
    def _list_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"values": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @field_validator("set", "vary")
    @classmethod
    def _dotted_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$", key):
                raise ValueError(
                    f"{shorten(key)} is not a dotted scenario key such as policy.planning_quality"
                )
            if key == "run.steps":
                raise ValueError("give run length with the top-level steps key")
        return value

    @field_validator("summaries")
    @classmethod
    def _names(cls, value: dict[str, Summary]) -> dict[str, Summary]:
        for name in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise ValueError(
                    f"summary name {shorten(name)}: use letters, digits and underscores"
                )
        return value

    @field_validator("vary")
    @classmethod
    def _design_fits_factors(
        cls, value: dict[str, Factor], info: ValidationInfo
    ) -> dict[str, Factor]:
        design = info.data.get("design")
        if design is None:  # the design itself is invalid; that error is reported
            return value
        if design.kind == "factorial":
            for key, factor in value.items():
                if factor.kind == "distribution":
                    raise ValueError(
                        f"{clip(key, 80)}: a distribution needs a sampling design (lhs, sobol, "
                        "morris); a factorial design takes a list of values or a range with levels"
                    )
                if factor.kind == "range" and factor.levels is None:
                    raise ValueError(
                        f"{clip(key, 80)}: a range in a factorial design needs levels: N"
                    )
        elif not value:
            raise ValueError(f"design {design.kind} needs at least one factor under vary")
        return value


# The experiment files the package carries (a link to the top-level experiments/ in a checkout,
# the files themselves in an installed wheel; see sim.scenario.presets).
EXPERIMENT_DIR = Path(str(files("sim") / "data" / "experiments"))


def resolve_experiment_path(name: str | Path) -> Path:
    """An experiment file by path, else by name among the packaged ones (``regimes``,
    ``smoke/regimes``, ``experiments/regimes.yaml``: what the docs write works from a wheel)."""
    path = Path(name)
    if path.is_file() or path.is_absolute() or path.suffix not in ("", ".yaml"):
        return path
    inside = Path(*path.parts[1:]) if path.parts[:1] == ("experiments",) else path
    for candidate in (EXPERIMENT_DIR / inside, EXPERIMENT_DIR / f"{inside}.yaml"):
        if candidate.is_file():
            return candidate
    return path


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; every problem is an InputError naming file and key."""
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(str(path), exc) from None
    if experiment.name is None:
        experiment = experiment.model_copy(update={"name": path.stem})
    return experiment


def experiment_json_schema() -> str:
    """JSON Schema of experiment files, for editors (YAML language servers accept it)."""
    schema = Experiment.model_json_schema()
    schema["title"] = "klaster experiment"
    return json.dumps(schema, indent=2)


__all__ = ["DESIGN_KINDS", "DISTRIBUTIONS", "Experiment", "Factor", "InputError", "load_experiment"]
