"""Reading scenario files: safe YAML, ``extends:`` inheritance, ``--set`` overrides, errors."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.errors import InputError, clip, describe_validation_error, shorten
from sim.scenario.presets import SCENARIO_DIR
from sim.scenario.safe_yaml import describe_yaml_error, load_text, read_text_file
from sim.scenario.schema import Scenario


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load a YAML file that must hold a mapping; every failure becomes an InputError.

    The file is read by the bounded reader (``safe_yaml``): size, nesting, aliases, tags,
    duplicate keys and integer length are limited, so no file can hang or crash a command.
    """
    text = read_text_file(path)
    try:
        data = load_text(text)
    except yaml.YAMLError as exc:
        raise describe_yaml_error(str(path), exc) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    bad = next((key for key in data if not isinstance(key, str)), _NONE)
    if bad is not _NONE:
        raise InputError(f"{path}: top-level key {shorten(bad)}: expected a name")
    return data


_NONE = object()
MAX_EXTENDS = 20  # a chain of ``extends`` longer than this is a mistake (or a loop in disguise)
KEY_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
        if _is_file(candidate):
            return candidate
    return path


def _is_file(path: Path) -> bool:
    """``Path.is_file`` that answers False for names the system refuses (too long, NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def load_raw(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a file and everything it ``extends``, merged, without validating."""
    path = path.resolve() if _is_file(path) else path
    if len(_chain) >= MAX_EXTENDS:
        raise InputError(f"{path}: extends: more than {MAX_EXTENDS} files deep")
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise InputError(f"{path}: extends: circular inheritance ({cycle})")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(f"{path}: extends: expected a file name, got {shorten(parent)}")
    parent_path = resolve_scenario_path(parent, relative_to=path)
    if not _exists(parent_path):
        raise InputError(f"{path}: extends: file not found: {clip(parent, 120)}")
    try:
        inherited = load_raw(parent_path, (*_chain, path))
    except InputError as exc:  # name the file that asked for the parent, too
        if str(exc).startswith(f"{path}:"):  # a cycle back to this file names it already
            raise
        raise InputError(f"{path}: extends: {exc}") from None
    return deep_merge(inherited, data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``policy.planning_quality=0.9`` -> (['policy', 'planning_quality'], 0.9), value as YAML."""
    if "=" not in text:
        raise InputError(f"--set {text}: expected KEY.PATH=VALUE, e.g. policy.planning_quality=0.9")
    key, raw_value = text.split("=", 1)
    shown = clip(text, 80)
    parts = key.strip().split(".")
    if not key.strip():
        raise InputError(f"--set {shown}: empty key path")
    if not all(KEY_PART.match(part) for part in parts):
        raise InputError(
            f"--set {shown}: {clip(key, 60)!r} is not a dotted key such as "
            "policy.planning_quality (names of letters, digits and _, joined by single dots)"
        )
    try:
        value = load_text(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as exc:
        raise InputError(f"--set {shown}: {describe_yaml_error('value', exc)}") from None
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
        else [(str(key).split("."), value) for key, value in overrides.items()]
    )
    for parts, value in items:
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                label = overrides_label(overrides)
                raise InputError(
                    f"{label} {clip('.'.join(parts), 100)}: {clip(part, 40)} is not a section"
                )
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
