"""A YAML reader for files from anyone: bounded in size, time and memory, plain data only.

``yaml.safe_load`` already refuses to build arbitrary objects, but a hostile or broken file can
still hang or crash it: an alias bomb (a few lines that expand to billions of nodes), nesting
deep enough to exhaust the recursion limit, a 5,000-digit integer, a FIFO that never sends EOF.
This reader refuses each of these with one short :class:`InputError`, before any of it is built,
and also refuses what a scenario never needs and would make its hash unstable: duplicate keys
(silently "last wins" otherwise), explicit tags (``!!set``, ``!!float abc``, ``!custom``) and
implicit timestamps (loaded as plain strings instead).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.scenario.errors import InputError, clip, shorten

MAX_FILE_BYTES = 1_000_000  # scenario and experiment files are a few kilobytes
MAX_DEPTH = 40  # the deepest real scenario key is four levels down
MAX_ALIASES = 100  # anchors and aliases are rare in these files; a bomb needs many
MAX_NODES = 50_000  # values, aliases expanded (a scenario has ~200): bounds memory and time
MAX_INT_DIGITS = 30  # far beyond every bound in the schemas; int("9" * 5000) raises in Python


class UnsafeYaml(yaml.YAMLError):
    """A construct this reader refuses; ``line`` is 1-based or None."""

    def __init__(self, problem: str, node_or_event: Any = None) -> None:
        mark = getattr(node_or_event, "start_mark", None)
        self.line = mark.line + 1 if mark is not None else None
        self.problem = problem
        super().__init__(problem)


class _Composer(Composer):
    """Counts depth, aliases and values (an alias counts as the values it repeats) while
    composing, so a file is refused as soon as it passes a limit, before it is built."""

    def compose_document(self) -> Node | None:
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._sizes: dict[int, int] = {}
        return super().compose_document()

    def _count(self, values: int, event: Any) -> None:
        self._values += values
        if self._values > MAX_NODES:
            raise UnsafeYaml(
                f"more than {MAX_NODES:,} values (counting each value an alias repeats)", event
            )

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise UnsafeYaml(f"more than {MAX_ALIASES} aliases (*name)", event)
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._count(_expanded_size(anchored, self._sizes), event)
        else:
            self._count(1, event)
            if isinstance(
                event, ScalarEvent | SequenceStartEvent | MappingStartEvent
            ) and event.tag not in (None, "!"):
                raise UnsafeYaml(
                    f"explicit tag {clip(event.tag.replace('tag:yaml.org,2002:', '!!'), 40)} "
                    "is not allowed (write plain values)",
                    event,
                )
        if isinstance(event, SequenceStartEvent | MappingStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise UnsafeYaml(f"nested more than {MAX_DEPTH} levels deep", event)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def _expanded_size(root: Node, sizes: dict[int, int]) -> int:
    """Values under ``root`` as if every alias in it were copied out.

    Iterative (no recursion) with a memo per node (``sizes``), so it is linear in the file.
    """
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, ScalarNode):
            sizes[id(node)] = 1
            continue
        children = _children(node)
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = min(1 + sum(sizes.get(id(child), 1) for child in children), 10**12)
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Constructor(SafeConstructor):
    """Safe constructor that refuses duplicate keys and huge integers."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if not isinstance(key_node, ScalarNode):
                    raise UnsafeYaml("a key must be a plain value, not a list or mapping", key_node)
                key = key_node.value
                if key in seen:
                    raise UnsafeYaml(f"duplicate key {shorten(key, 40)}", key_node)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Node) -> int:
        digits = sum(ch.isalnum() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise UnsafeYaml(f"integer with {digits} digits is too large", node)
        return super().construct_yaml_int(node)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_yaml_map)


class _Resolver(yaml.resolver.Resolver):
    """The YAML 1.1 resolver without implicit timestamps: ``2005-01-01`` stays a string."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


class BoundedLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _Composer, _Constructor, _Resolver
):
    """A SafeLoader with the limits above (pure Python, so the composer hooks apply)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


def load_text(text: str) -> Any:
    """Parse one YAML document with the limits; raises ``yaml.YAMLError`` (``UnsafeYaml``)."""
    if len(text) > MAX_FILE_BYTES:
        raise UnsafeYaml(f"longer than {MAX_FILE_BYTES:,} characters")
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    except ConstructorError as exc:
        raise UnsafeYaml(exc.problem or "cannot read this value", exc) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        raise UnsafeYaml(clip(str(exc), 80)) from None
    finally:
        loader.dispose()


def read_text_file(path: Path) -> str:
    """The file's text, refusing what is not a regular, small, UTF-8 file, without blocking.

    Opened non-blocking and checked with ``fstat`` on the open descriptor, so a FIFO or device
    put in place of the file is refused rather than waited on.
    """
    shown = clip(str(path), 200)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, expected a YAML file") from None
    except NotADirectoryError:
        raise InputError(f"{shown}: file not found (a parent is not a folder)") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or clip(str(exc), 80)
        raise InputError(f"{shown}: cannot open ({reason})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{shown}: is a directory, expected a YAML file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{shown}: not a regular file (a pipe, socket or device)")
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(
                f"{shown}: {info.st_size:,} bytes; scenario and experiment files are limited "
                f"to {MAX_FILE_BYTES:,}"
            )
        data = os.read(fd, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{shown}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{shown}: not a text file (expected UTF-8 YAML)") from None


def describe_yaml_error(source: str, exc: yaml.YAMLError) -> InputError:
    """One line: the file, where, and what is wrong (never the offending value in full)."""
    if isinstance(exc, UnsafeYaml):
        where = f" (line {exc.line})" if exc.line else ""
        return InputError(f"{source}: refused YAML{where}: {exc.problem}")
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"{source}: malformed YAML{where}: {clip(problem, 120)}")
