"""One error type for bad user input, so the CLI can print one clear line and exit 2."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class InputError(Exception):
    """Bad input from a file or the command line; the message names file, key and expectation."""

    exit_code = 2


def describe_validation_error(source: str, error: ValidationError, prefix: str = "") -> InputError:
    """Turn pydantic's error list into one message; the first problem leads, others follow."""
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if part != "__root__")
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        lines.append(f"{source}: {path or '(top level)'}: {_expectation(item)}")
    return InputError("\n".join(lines))


def _expectation(item: dict[str, Any]) -> str:
    kind = item["type"]
    given = item.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; `klaster schema` lists the valid keys)"
    if kind == "missing":
        return "required key is missing"
    ctx = item.get("ctx") or {}
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bound = {
            "greater_than_equal": ">=",
            "less_than_equal": "<=",
            "greater_than": ">",
            "less_than": "<",
        }[kind]
        limit = next(iter(ctx.values()), "?")
        return f"expected a value {bound} {limit}, got {given!r}"
    message = item["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{message} (got {given!r})" if given is not None and kind != "value_error" else message
