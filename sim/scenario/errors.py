"""The error types a user sees as one short message, and the exit code each one gives.

Exit codes (documented in README and docs/sweeps.md): 0 success; 1 some runs failed (a sweep's
runs, or a run whose outcomes are not finite numbers); 2 bad input (a file, an argument, an
output folder that may not be written), with nothing written; 3 the environment failed (no space
left, permission denied, a read-only place, an unreachable dask scheduler), with whatever was
written either complete or removed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

EXIT_RUNS_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3

MAX_ERROR_LINES = 5  # a file with fifty mistakes gets the first few, and how many more


class InputError(Exception):
    """Bad input from a file or the command line; the message names file, key and expectation."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentFailure(Exception):
    """The machine, not the input, stopped the command: disk full, permissions, a scheduler."""

    exit_code = EXIT_ENVIRONMENT


class RunFailed(Exception):
    """A run finished but its outcomes are unusable (NaN or infinite), or the model raised."""

    exit_code = EXIT_RUNS_FAILED


def shorten(value: Any, limit: int = 60) -> str:
    """``str(value)`` cut to ``limit`` characters, so a message never repeats a huge value.

    Containers are summarised by type and length before being printed: a list of a million
    elements is never turned into a string just to be cut.
    """
    if isinstance(value, list | tuple | dict | set) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value):,} items>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    if len(text) > limit:
        text = f"{text[: max(10, limit - 15)]}... ({len(text):,} chars)"
    return text


def describe_validation_error(source: str, error: ValidationError, prefix: str = "") -> InputError:
    """Turn pydantic's error list into one message; the first problems lead, a count follows."""
    lines = []
    items = error.errors()
    for item in items[:MAX_ERROR_LINES]:
        path = ".".join(str(part) for part in item["loc"] if part != "__root__")
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        lines.append(f"{source}: {path or '(top level)'}: {_expectation(item)}")
    if len(items) > MAX_ERROR_LINES:
        lines.append(f"{source}: ... and {len(items) - MAX_ERROR_LINES} more problems")
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
        return f"expected a value {bound} {limit}, got {shorten(given)}"
    if kind == "finite_number":
        return f"expected a finite number, got {shorten(given)}"
    message = clip(item["msg"], 200)
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return (
        f"{message} (got {shorten(given)})"
        if given is not None and kind != "value_error"
        else message
    )
