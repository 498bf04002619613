"""Reading scenario files: safe YAML, ``extends:`` inheritance, ``--set`` overrides, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.errors import InputError, describe_validation_error
from sim.scenario.presets import SCENARIO_DIR
from sim.scenario.schema import Scenario


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load a YAML file that must hold a mapping; every failure becomes an InputError."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}: malformed YAML{where}: {problem}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (expected UTF-8 YAML)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) is replaced whole."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_scenario_path(name: str | Path, relative_to: Path | None = None) -> Path:
    """Find a scenario by path, relative to the including file, or by preset name."""
    path = Path(name)
    candidates = [path]
    if relative_to is not None:
        candidates.insert(0, relative_to.parent / path)
    if path.suffix == "" and len(path.parts) == 1:
        candidates.append(SCENARIO_DIR / f"{path}.yaml")
    candidates.append(SCENARIO_DIR / path.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return path


def load_raw(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a file and everything it ``extends``, merged, without validating."""
    path = path.resolve() if path.exists() else path
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise InputError(f"{path}: extends: circular inheritance ({cycle})")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(f"{path}: extends: expected a file name, got {parent!r}")
    parent_path = resolve_scenario_path(parent, relative_to=path)
    if not parent_path.exists():
        raise InputError(f"{path}: extends: file not found: {parent}")
    return deep_merge(load_raw(parent_path, (*_chain, path)), data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``policy.planning_quality=0.9`` -> (['policy', 'planning_quality'], 0.9), value as YAML."""
    if "=" not in text:
        raise InputError(f"--set {text}: expected KEY.PATH=VALUE, e.g. policy.planning_quality=0.9")
    key, raw_value = text.split("=", 1)
    parts = [part for part in key.strip().split(".") if part]
    if not parts:
        raise InputError(f"--set {text}: empty key path")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError:
        raise InputError(f"--set {text}: value {raw_value!r} is not valid YAML") from None
    return parts, value


def overrides_label(overrides: list[str] | dict[str, Any]) -> str:
    """How the caller wrote overrides, for messages: the CLI's ``--set`` (a list of KEY=VALUE
    strings) or Python's ``overrides=`` (a mapping)."""
    return "--set" if isinstance(overrides, list) else "overrides="


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Apply dotted-key overrides (CLI strings or a mapping) on top of raw scenario data."""
    result = copy.deepcopy(data)
    items = (
        [parse_override(text) for text in overrides]
        if isinstance(overrides, list)
        else [(key.split("."), value) for key, value in overrides.items()]
    )
    for parts, value in items:
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                label = overrides_label(overrides)
                raise InputError(f"{label} {'.'.join(parts)}: {part} is not a section")
            node = child
        node[parts[-1]] = value
    return result


def build_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Validate raw data into a Scenario, naming ``source`` in any error."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(source, exc) from None


def load_scenario(
    path: str | Path, overrides: list[str] | dict[str, Any] | None = None
) -> Scenario:
    """The one entry point for scenario files: read, inherit, override, validate."""
    resolved = resolve_scenario_path(path)
    raw = load_raw(resolved)
    source = str(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
        label = overrides_label(overrides)
        source += " (with --set overrides)" if label == "--set" else f" (with {label})"
    scenario = build_scenario(raw, source)
    if scenario.name == "unnamed":
        scenario = scenario.model_copy(update={"name": Path(resolved).stem})
    return scenario


def scenario_json_schema() -> str:
    """JSON Schema of scenario files, for editors (YAML language servers accept it)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Another scenario file this one starts from.",
    }
    schema["title"] = "klaster scenario"
    return json.dumps(schema, indent=2)
