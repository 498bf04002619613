"""``manifest.json``: what produced a results folder, so a table can be traced to code and input.

Written when a sweep starts (status ``running``) and rewritten when it ends, so even a killed sweep
leaves a record of what was attempted. The first version is padded with spaces (JSON allows them)
so the final one can overwrite it in place when the disk is full: whatever stops a sweep short of
``kill -9``, its manifest ends in a final state.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sim.runner.provenance import environment

__all__ = ["environment", "file_sha256", "finish_manifest", "read_manifest", "write_manifest"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


RESERVE_BYTES = 16_384  # room for the final manifest, kept in the first one's blocks


def write_manifest(out_dir: Path, manifest: dict[str, Any], reserve: bool = False) -> Path:
    """Write ``manifest.json`` whole (temporary file, then rename); ``reserve`` pads it."""
    path = out_dir / "manifest.json"
    temp = path.with_name(".manifest.json.tmp")
    text = json.dumps(manifest, indent=2, default=str) + "\n"
    if reserve:
        text += " " * RESERVE_BYTES + "\n"
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def finish_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the final manifest; on a full disk, overwrite the padded one in place (no new
    blocks needed). Raises only if neither is possible."""
    try:
        write_manifest(out_dir, manifest)
        return
    except OSError:
        pass
    path = out_dir / "manifest.json"
    data = (json.dumps(manifest, separators=(",", ":"), default=str) + "\n").encode()
    with open(path, "r+b", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        if len(data) > size:
            raise OSError(28, "no space left for the final manifest", str(path))
        handle.write(data + b" " * (size - len(data)))
        os.fsync(handle.fileno())


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
