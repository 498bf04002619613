"""Every scalar scenario parameter as a dotted key, with its type, default and bounds, read from
the schema; and the flat keyword names a Mesa user can pass instead of a dotted key.

The schema (``sim.scenario.schema``) is the one place bounds are written; tools that need a
parameter space (Mesa's ``batch_run``, EMA Workbench's uncertainties and levers) read it here
rather than retyping ranges.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sim.scenario.errors import InputError
from sim.scenario.schema import Scenario

# Names a policy researcher reaches for that the schema spells otherwise.
ALIASES: dict[str, str] = {
    "n_designated": "policy.selected_clusters",
    "designated_clusters": "policy.selected_clusters",
    "budget": "policy.budget_per_quarter",
    "steps": "run.steps",
}


@dataclass(frozen=True)
class Parameter:
    """One scalar scenario parameter: its dotted key, type and the schema's bounds."""

    key: str  # dotted, e.g. "policy.planning_quality"
    kind: type  # float, int, bool or str
    default: Any
    low: float | None  # the schema's ge bound (None: unbounded)
    high: float | None  # the schema's le bound (None: unbounded)
    description: str


def _bounds(field: Any) -> tuple[float | None, float | None]:
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high


def _walk(model: type[BaseModel], prefix: str) -> list[Parameter]:
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _walk(annotation, f"{prefix}{name}.")
        elif annotation in (float, int, bool, str):
            low, high = _bounds(field)
            found.append(
                Parameter(
                    f"{prefix}{name}",
                    annotation,
                    field.get_default(call_default_factory=True),
                    low,
                    high,
                    field.description or "",
                )
            )
    return found


@functools.cache
def parameters() -> dict[str, Parameter]:
    """Every scalar parameter of the schema by dotted key (lists and mappings are left out)."""
    return {p.key: p for p in _walk(Scenario, "") if p.key not in ("name", "description")}


@functools.cache
def flat_names() -> dict[str, str]:
    """Keyword name -> dotted key: each leaf name that is unique in the schema, the aliases, and
    ``section__name`` for any key (``policy__planning_quality``)."""
    keys = list(parameters())
    leaves: dict[str, list[str]] = {}
    for key in keys:
        leaves.setdefault(key.rsplit(".", 1)[1], []).append(key)
    names = {leaf: found[0] for leaf, found in leaves.items() if len(found) == 1}
    names.update({key.replace(".", "__"): key for key in keys})
    names.update(ALIASES)
    return names


def dotted_key(name: str, argument: str = "keyword") -> str:
    """The dotted scenario key a flat keyword names; an InputError naming the closest keys
    when none matches or the name is ambiguous."""
    found = flat_names().get(name)
    if found is not None:
        return found
    shared = [key for key in parameters() if key.rsplit(".", 1)[1] == name]
    if shared:
        spelled = ", ".join(key.replace(".", "__") for key in shared)
        raise InputError(f"{argument} {name}: several sections have it; write one of {spelled}")
    import difflib

    close = difflib.get_close_matches(name, list(flat_names()), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(
        f"{argument} {name}: not a scenario parameter{hint}; `klaster schema` lists them "
        "(write section__name, e.g. policy__planning_quality, for any of them)"
    )


def bounds(key: str) -> tuple[float | None, float | None]:
    """The schema's (low, high) bounds of a dotted key."""
    found = parameters().get(key)
    if found is None:
        raise InputError(f"{key}: not a scalar scenario parameter (`klaster schema` lists them)")
    return found.low, found.high


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested scenario mapping -> dotted keys (name and description left out)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if not prefix and key in ("name", "description", "extends"):
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out
