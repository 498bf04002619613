"""``manifest.json``: what produced a results folder, so a table can be traced to code and input.

Written when a sweep starts (status ``running``) and rewritten when it ends, so even a killed sweep
leaves a record of what was attempted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sim.runner.provenance import environment

__all__ = ["environment", "file_sha256", "read_manifest", "write_manifest"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = out_dir / "manifest.json"
    temp = path.with_name(".manifest.json.tmp")
    temp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
