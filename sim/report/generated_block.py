"""A generated block inside a hand-written markdown file (the ODD's parameter and outcome
tables): rewritten between its two marker lines, and printed or written from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def refresh_block(path: Path, begin: str, end: str, markdown: str) -> bool:
    """Rewrite what stands between ``begin`` and ``end`` in ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{markdown}\n{end}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def command(description: str, begin: str, end: str, markdown: Callable[[], str]) -> None:
    """``--write FILE`` refreshes the block in FILE; without it the block is printed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--write", type=Path, help="refresh the block in this markdown file")
    args = parser.parse_args()
    if args.write:
        refresh_block(args.write, begin, end, markdown())
    else:
        print(markdown())
