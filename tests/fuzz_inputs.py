"""A seeded generator of hostile scenario and experiment files, and the harness that runs them.

Each case is a small folder of input files (a tiny-world scenario, perhaps an experiment)
mutated one way: a type flipped, a key deleted or misspelt, a number past its bound or moved
anywhere inside it, NaN and infinities, an alias bomb, deep nesting, explicit tags, duplicate
keys, a 5,000-digit integer, garbage bytes, hostile paths (``name: ../../evil``, ``extends:`` a
FIFO, a device, itself). The harness runs ``klaster run``/``validate``/``sweep`` on it in-process
(through ``sim.cli.main``, as a user's shell would, minus the interpreter start) and checks the
promise of the command line: exit 0 only with finite outcomes, otherwise exit 2 with one short
message naming the file and the key, no traceback, nothing written, within a time limit.

Used by tests/test_fuzz_inputs.py (a small default run and a slow long one) and by
bench/robustness.py (the closing table).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TIME_LIMIT_S = 60  # per case; a tiny run takes well under a second
MAX_MESSAGE_CHARS = 1500
MAX_MESSAGE_LINES = 6

TINY = {
    "world": {"n_clusters": 4, "n_regions": 2, "cluster_size_median": 10, "cluster_size_max": 40},
    "run": {"steps": 2, "burn_in": 1},
}
# moved only past their bounds: inside them they only make a run big, not wrong
SIZE_KEYS = {
    "world.n_clusters",
    "world.n_regions",
    "world.scale",
    "world.cluster_size_median",
    "world.cluster_size_min",
    "world.cluster_size_max",
    "world.workers_median",
    "world.trader_size_factor",
    "run.steps",
    "run.burn_in",
    "firms.management_span",
    "firms.upstream_output_factor",
    "coordination.membership_threshold",
    "policy.selected_clusters",
}
FAMILIES = (
    "valid",
    "inside_bounds",
    "type_flip",
    "delete",
    "unknown_key",
    "past_bounds",
    "nan_inf",
    "list_shape",
    "alias_bomb",
    "nesting",
    "tag",
    "duplicate_key",
    "huge_int",
    "garbage",
    "path",
    "experiment",
)


@dataclass
class Case:
    """One hostile input: files to create, the command to run, what the mutation touched."""

    number: int
    family: str
    detail: str
    files: dict[str, bytes | None]  # None: a FIFO
    argv: list[str]
    key: str = ""  # the key a message must name ('' when no single key is to blame)
    expect_ok: bool | None = None  # True/False when known; None: either, judged by the checks


@dataclass
class Outcome:
    number: int
    family: str
    detail: str
    code: int | None
    seconds: float
    problems: list[str] = field(default_factory=list)
    traceback: bool = False
    hang: bool = False
    deleted: bool = False


def tiny_scenario() -> dict[str, Any]:
    """Every key of a scenario, with a tiny world: mutations can hit any of them."""
    from sim.scenario.schema import Scenario

    data = Scenario().model_dump(mode="json")
    for section, values in TINY.items():
        data[section].update(values)
    data["name"] = "fuzz"
    data["world"]["named_clusters"] = [
        {"name": "Jepara furniture", "product": "furniture", "region": 1, "n_firms": 12}
    ]
    data["market"]["shocks"] = [{"step": 1, "size": 0.5, "segments": ["export"]}]
    return data


def tiny_experiment() -> dict[str, Any]:
    return {
        "name": "fuzzexp",
        "scenarios": ["scenario.yaml"],
        "vary": {"policy.planning_quality": [0.2, 0.8]},
        "replicates": 1,
        "steps": 2,
        "summaries": {"va_growth": {"column": "value_added", "reduce": "growth"}},
    }


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found.append((path, value))
            found += _leaves(value, path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            path = f"{prefix}.{index}"
            found.append((path, value))
            found += _leaves(value, path)
    return found


def _set(data: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _delete(data: Any, path: str) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        del node[int(parts[-1])]
    else:
        del node[parts[-1]]


def _bounds() -> dict[str, tuple[float | None, float | None, str]]:
    """Dotted key -> (minimum, maximum, type) of every numeric scenario field."""
    from sim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    found: dict[str, tuple[float | None, float | None, str]] = {}

    def walk(node: dict, prefix: str) -> None:
        for name, prop in node.get("properties", {}).items():
            ref = prop.get("$ref") or (prop.get("allOf") or [{}])[0].get("$ref")
            path = f"{prefix}.{name}" if prefix else name
            if ref:
                walk(defs[ref.rsplit("/", 1)[1]], path)
            elif prop.get("type") in ("number", "integer"):
                found[path] = (prop.get("minimum"), prop.get("maximum"), prop["type"])

    walk(schema, "")
    return found


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False).encode()


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def make_cases(seed: int, count: int) -> list[Case]:
    """``count`` cases drawn with ``random.Random(seed)``, every family in turn."""
    rng = random.Random(seed)
    base = tiny_scenario()
    bounds = _bounds()
    cases = []
    for number in range(count):
        family = FAMILIES[number % len(FAMILIES)]
        cases.append(_make(number, family, rng, base, bounds))
    return cases


def _make(number: int, family: str, rng: random.Random, base: dict, bounds: dict) -> Case:
    data = json.loads(json.dumps(base))
    leaves = [(p, v) for p, v in _leaves(data)]
    scalar_paths = [p for p, v in leaves if not isinstance(v, dict | list)]
    argv = ["run", "scenario.yaml", "--out", "out", "--quiet"]

    def case(detail: str, files: dict, key: str = "", expect_ok: bool | None = None, args=None):
        return Case(number, family, detail, files, args or argv, key, expect_ok)

    if family == "valid":
        return case("unchanged", {"scenario.yaml": _dump(data)}, expect_ok=True)
    if family == "inside_bounds":
        candidates = [k for k, (lo, hi, _) in bounds.items() if k not in SIZE_KEYS]
        changed = []
        for key in rng.sample(candidates, 3):
            lo, hi, kind = bounds[key]
            lo = -1e3 if lo is None else lo
            hi = 1e3 if hi is None else hi
            value = rng.choice([lo, hi, rng.uniform(lo, hi)])
            value = int(round(value)) if kind == "integer" else float(value)
            with contextlib.suppress(KeyError, TypeError, ValueError, IndexError):
                _set(data, key, value)
                changed.append(f"{key}={value}")
        return case(", ".join(changed), {"scenario.yaml": _dump(data)})
    if family == "type_flip":
        path = rng.choice(scalar_paths + [p for p, v in leaves if isinstance(v, dict)][:10])
        value = rng.choice(["abc", [1, 2], {"x": 1}, True, None, "", "1e400", [], -1])
        _set(data, path, value)
        return case(f"{path}={value!r}", {"scenario.yaml": _dump(data)}, key=path.split(".")[-1])
    if family == "delete":
        path, _ = rng.choice(leaves)
        _delete(data, path)
        return case(f"del {path}", {"scenario.yaml": _dump(data)})
    if family == "unknown_key":
        path = rng.choice([p for p, v in leaves if isinstance(v, dict)] + [""])
        node = data
        for part in path.split(".") if path else []:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node["speling_mistake"] = 1
        return case(
            f"{path}.speling_mistake", {"scenario.yaml": _dump(data)}, "speling_mistake", False
        )
    if family == "past_bounds":
        key = rng.choice(sorted(bounds))
        lo, hi, kind = bounds[key]
        options = []
        if lo is not None:
            options += [lo - 1, lo - 1e-6 if kind == "number" else lo - 1, -1e300]
        if hi is not None:
            options += [hi + 1, hi * 10 + 1, 1e300]
        if not options:
            options = [1e300]
        value = rng.choice(options)
        value = int(value) if kind == "integer" and abs(value) < 1e18 else value
        _set(data, key, value)
        return case(f"{key}={value}", {"scenario.yaml": _dump(data)}, key.split(".")[-1], False)
    if family == "nan_inf":
        number_paths = [p for p, v in leaves if _numeric(v)]
        path = rng.choice(number_paths)
        word = rng.choice([".nan", ".inf", "-.inf", ".NaN"])
        _set(data, path, "@@")
        text = _dump(data).replace(b"'@@'", word.encode())
        return case(f"{path}={word}", {"scenario.yaml": text}, path.split(".")[-1], False)
    if family == "list_shape":
        choice = rng.randrange(6)
        if choice == 0:
            data["world"]["stage_shares"] = [0.2, 0.7, 0.1, 0.0]
            key = "stage_shares"
        elif choice == 1:
            data["world"]["products"] = []
            key = "products"
        elif choice == 2:
            data["market"]["segment_premium"] = [1.0, -1.5, 2.2]
            key = "segment_premium"
        elif choice == 3:
            data["world"]["products"] = [f"p{i}" for i in range(500)]
            key = "products"
        elif choice == 4:
            data["market"]["shocks"] = [{"step": 1, "products": ["nothing"]}]
            key = "products"
        else:
            data["world"]["named_clusters"][0]["region"] = 10**6
            key = "region"
        return case(f"{key} reshaped", {"scenario.yaml": _dump(data)}, key, False)
    if family == "alias_bomb":
        levels = rng.randint(6, 9)
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, levels + 1):
            lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
        lines.append(f"description: *a{levels}")
        return case(f"9^{levels + 1} values", {"scenario.yaml": "\n".join(lines).encode()})
    if family == "nesting":
        depth = rng.choice([100, 1000, 50_000])
        style = rng.randrange(2)
        text = (
            "description: " + "[" * depth + "]" * depth
            if style == 0
            else "description: " + "{a: " * depth + "1" + "}" * depth
        )
        return case(f"depth {depth}", {"scenario.yaml": text.encode()})
    if family == "tag":
        path = rng.choice(scalar_paths)
        tag = rng.choice(
            ["!!set {a, b}", "!!float abc", "!!python/object:os.system ls", "!custom 1",
             "!!binary aGVsbG8=", "!!timestamp 2001-12-14", "!!omap [a: 1]", "!!str 0.5"]
        )  # fmt: skip
        _set(data, path, "@@")
        text = _dump(data).replace(b"'@@'", tag.encode())
        return case(f"{path}: {tag}", {"scenario.yaml": text}, expect_ok=False)
    if family == "duplicate_key":
        text = _dump(data) + rng.choice([b"run:\n  steps: 3\n", b"name: again\n"])
        return case("a top-level key twice", {"scenario.yaml": text}, expect_ok=False)
    if family == "huge_int":
        path = rng.choice([p for p, v in leaves if _numeric(v)])
        digits = rng.choice([25, 400, 5000])
        _set(data, path, "@@")
        text = _dump(data).replace(b"'@@'", b"9" * digits)
        return case(f"{path}: {digits} digits", {"scenario.yaml": text}, expect_ok=False)
    if family == "garbage":
        choice = rng.randrange(5)
        text = _dump(data)
        if choice == 0:
            blob = bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
        elif choice == 1:
            blob = text[: rng.randint(1, len(text) - 1)]  # truncated (may still be valid)
        elif choice == 2:
            blob = b"\xff\xfe" + text
        elif choice == 3:
            blob = text.replace(b"  ", b"\t", 3)
        else:
            blob = b"- just\n- a list\n"
        return case(f"garbage {choice}", {"scenario.yaml": blob})
    if family == "path":
        choice = rng.randrange(8)
        files: dict[str, bytes | None] = {}
        no_out = ["run", "scenario.yaml", "--quiet"]
        if choice == 0:
            data["name"] = rng.choice(["../../evil", "/tmp/klaster-evil", "a/b", ".hidden"])
            files["scenario.yaml"] = _dump(data)
            return case(f"name {data['name']}", files, "name", False, no_out)
        if choice == 1:
            files["scenario.yaml"] = b"extends: missing_file.yaml\n"
            return case("extends a missing file", files, "extends", False)
        if choice == 2:
            files["scenario.yaml"] = b"extends: pipe.yaml\n"
            files["pipe.yaml"] = None
            return case("extends a FIFO", files, "pipe.yaml", False)
        if choice == 3:
            files["scenario.yaml"] = b"extends: /dev/zero\n"
            return case("extends a device", files, "/dev/zero", False)
        if choice == 4:
            files["scenario.yaml"] = b"extends: scenario.yaml\n"
            return case("extends itself", files, "extends", False)
        if choice == 5:
            files["scenario.yaml"] = None
            return case("a FIFO as the scenario", files, "scenario.yaml", False)
        if choice == 6:
            files["scenario.yaml"] = b'extends: "' + b"x" * 5000 + b'"\n'
            return case("extends a 5,000-character name", files, "extends", False)
        files["scenario.yaml"] = _dump(data)
        files["out/precious.txt"] = b"a user's file\n"
        return case("--out holds a user's file", files, "--out", False)
    # experiment
    exp = tiny_experiment()
    files = {"scenario.yaml": _dump(data)}
    args = ["sweep", "experiment.yaml", "--out", "out", "--executor", "serial", "--quiet"]
    choice = rng.randrange(14)
    key = ""
    expect: bool | None = False
    if choice == 0:
        expect, detail = True, "unchanged"
    elif choice == 1:
        exp["vary"] = {f"firms.p{i}": {"low": 0, "high": 1, "levels": 10_000} for i in range(3)}
        detail, key = "factorial of 10^12 points", "vary"
    elif choice == 2:
        exp["design"] = {"kind": "lhs", "samples": 10_000_000}
        exp["vary"] = {"policy.planning_quality": {"low": 0, "high": 1}}
        detail, key = "lhs of 10^7 samples", "samples"
    elif choice == 3:
        exp["vary"] = {"policy..planning_quality": [0.1]}
        detail, key = "malformed vary key", "vary"
    elif choice == 4:
        exp["master_seed"] = rng.choice([-1, 2**70, "x"])
        detail, key = f"master_seed {exp['master_seed']}", "master_seed"
    elif choice == 5:
        exp["summaries"] = {"bad": {"column": "not_a_column"}}
        detail, key = "summary of an unknown column", "summaries"
    elif choice == 6:
        exp["vary"] = {"policy.planning_quality": {"low": 0, "high": math.inf, "levels": 3}}
        detail, key = "range to infinity", "high"
    elif choice == 7:
        exp["set"] = {"world.n_clusters": 10**9}
        detail, key = "set past a bound", "n_clusters"
    elif choice == 8:
        exp["design"] = {"kind": "sobol", "samples": 3}
        exp["vary"] = {"policy.planning_quality": {"low": 0, "high": 1}}
        detail, key = "sobol samples not a power of 2", "samples"
    elif choice == 9:
        exp["scenarios"] = ["../../../../etc/passwd"]
        detail, key = "a scenario that is not YAML of a scenario", "scenarios"
    elif choice == 10:
        exp["vary"] = {"policy.planning_quality": [0.2, float("nan")]}
        detail, key = "NaN among the values", "planning_quality"
    elif choice == 11:
        exp["scenarios"] = ["x" * 300_000]
        detail, key = "a 300,000-character scenario name", "scenarios"
    elif choice == 12:
        exp["vary"] = {"policy.planning_quality": [0.2, "y" * 300_000]}
        detail, key = "a 300,000-character value", "planning_quality"
    else:
        exp["name"] = "../../evil"
        args = ["sweep", "experiment.yaml", "--executor", "serial", "--quiet"]
        detail, key = "experiment name ../../evil", "name"
    files["experiment.yaml"] = _dump(exp)
    return Case(number, "experiment", detail, files, args, key, expect)


# --- the harness: runs in worker processes ------------------------------------------------------


class _Timeout(BaseException):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_fifo():
            found[relative] = "fifo"
        elif path.is_file():
            found[relative] = path.read_bytes()
        elif path.is_dir():
            found[relative] = "dir"
    return found


def run_case(case: Case, root: str) -> Outcome:
    """Create the case's files under ``root``, run the command there, check every promise."""
    from sim.cli import main
    from sim.runner.finite import unusable_outcomes

    around = Path(root) / f"case{case.number:05d}"  # holds only the sandbox: "../x" lands here
    sandbox = around / "work"
    sandbox.mkdir(parents=True)
    for name, content in case.files.items():
        path = sandbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            os.mkfifo(path)
        else:
            path.write_bytes(content)
    before = _snapshot(sandbox)
    outside_before = sorted(p.name for p in around.iterdir())
    err, out = io.StringIO(), io.StringIO()
    outcome = Outcome(case.number, case.family, case.detail, None, 0.0)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    cwd = os.getcwd()
    started = time.perf_counter()
    try:
        os.chdir(sandbox)
        signal.alarm(TIME_LIMIT_S)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                outcome.code = main(list(case.argv))
            except SystemExit as stop:
                outcome.code = stop.code if isinstance(stop.code, int) else 2
    except _Timeout:
        outcome.hang = True
        outcome.problems.append(f"no answer within {TIME_LIMIT_S} s")
    except BaseException as exc:  # noqa: BLE001 (an escaped exception is what we look for)
        outcome.traceback = True
        outcome.problems.append(f"exception escaped: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(cwd)
        outcome.seconds = time.perf_counter() - started
    message = err.getvalue()
    if "Traceback" in message:
        outcome.traceback = True
        outcome.problems.append("a traceback on stderr")
    after = _snapshot(sandbox)
    lost = [name for name, content in before.items() if after.get(name) != content]
    if lost:
        outcome.deleted = True
        outcome.problems.append(f"input or user files changed or deleted: {lost[:3]}")
    if sorted(p.name for p in around.iterdir()) != outside_before:
        outcome.problems.append("something was written outside the case's folder")
    new = sorted(set(after) - set(before))
    if outcome.code == 0:
        if case.expect_ok is False:
            outcome.problems.append("accepted although it should be refused")
        outcome.problems += _check_success(case, sandbox, new, unusable_outcomes)
    elif outcome.code == 2:
        if case.expect_ok is True:
            outcome.problems.append(f"refused a valid input: {message[:200]}")
        outcome.problems += _check_refusal(case, message, new)
    elif not outcome.hang and not outcome.traceback:
        outcome.problems.append(f"exit {outcome.code}: {message[:300]}")
    return outcome


def _check_success(case: Case, sandbox: Path, new: list[str], unusable: Any) -> list[str]:
    problems = []
    command = case.argv[0]
    if command == "validate":
        return [f"validate wrote {new[:3]}"] if new else []
    if command == "run":
        manifests = list(sandbox.rglob("manifest.json"))
        if len(manifests) != 1:
            return [f"expected one manifest, found {len(manifests)}"]
        folder = manifests[0].parent
        if not folder.resolve().is_relative_to(sandbox.resolve()):
            problems.append("results outside the case's folder")
        if "--out" not in case.argv and not folder.resolve().is_relative_to(
            (sandbox / "results").resolve()
        ):
            problems.append(f"results outside results/: {folder}")
        summary = json.loads(manifests[0].read_text())["summary"]
        bad = unusable(summary)
        if bad:
            problems.append(f"exit 0 with outcomes that are not finite: {bad[:3]}")
        return problems
    import pandas as pd

    table = pd.read_parquet(sandbox / "out" / "outcomes.parquet")
    if table["failed"].any():
        problems.append("exit 0 with failed runs")
    numbers = table.select_dtypes("number")
    if not numbers.apply(lambda c: c.map(lambda v: not math.isinf(v))).all().all():
        problems.append("exit 0 with infinite outcomes")
    return problems


def _check_refusal(case: Case, message: str, new: list[str]) -> list[str]:
    problems = []
    if new:
        problems.append(f"refused but wrote {new[:3]}")
    lines = message.strip().splitlines()
    if len(message) > MAX_MESSAGE_CHARS or len(lines) > MAX_MESSAGE_LINES:
        problems.append(f"message too long: {len(lines)} lines, {len(message)} chars")
    inputs = [*case.files, *(arg for arg in case.argv[1:] if not arg.startswith("-"))]
    named = [name for name in inputs if name in message]
    argument = "usage:" in message and "--" in message
    if not named and not argument:
        problems.append(f"message names no input file: {message[:200]!r}")
    if case.key and case.key not in message:
        problems.append(f"message does not name {case.key!r}: {message[:200]!r}")
    return problems


def run_cases(cases: list[Case], root: str) -> list[Outcome]:
    """Run a batch in this process (a worker of the pool), in order.

    The model's kernels are loaded (or compiled, after a change to the model: a minute under
    load) before the first case, outside its time limit.
    """
    from sim.model.warmup import compile_all

    compile_all()
    return [run_case(case, root) for case in cases]


def summarise(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """Per family: cases, passed, failed, exit 0, exit 2, tracebacks, hangs, data deleted."""
    table: dict[str, dict[str, int]] = {}
    for item in outcomes:
        row = table.setdefault(
            item.family,
            dict.fromkeys(
                ("cases", "passed", "failed", "exit0", "exit2", "tracebacks", "hangs", "deleted"),
                0,
            ),
        )
        row["cases"] += 1
        row["passed" if not item.problems else "failed"] += 1
        row["exit0"] += item.code == 0
        row["exit2"] += item.code == 2
        row["tracebacks"] += item.traceback
        row["hangs"] += item.hang
        row["deleted"] += item.deleted
    return table
