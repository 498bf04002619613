"""Result folders: where klaster may write, so no file of a user is ever deleted or replaced.

Every result folder carries a ``.klaster`` marker naming the kind of result (run, compare, sweep)
that wrote it. A command writes into a folder only if it does not exist, is empty, or holds a
result of the same kind; anything else is refused with exit 2 before any work is done, unless
the user adds ``--overwrite``, which lets klaster write its own files there and still never
touches any other file. A folder lock (``flock``, released by the kernel even on ``kill -9``)
keeps a sweep, a second sweep and a ``klaster run`` from writing one folder at once.

Outputs of ``run`` and ``compare`` are written to a hidden staging folder beside the target and
moved in file by file only once complete: an interrupted or failed command leaves no half result,
and what it created is removed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.scenario.errors import EnvironmentFailure, InputError, clip

MARKER = ".klaster"
LOCK_NAME = ".klaster.lock"
# klaster's own bookkeeping: a folder holding only these counts as empty
OWN_HIDDEN = (MARKER, LOCK_NAME, ".sweep.lock")
KINDS = ("run", "compare", "sweep")
UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


class SweepLocked(InputError):
    """Another live process (a sweep, or a command writing its result) holds the folder."""


def folder_name(label: str, source: str) -> str:
    """A name from a file (a scenario's ``name``) made into one folder name, or refused.

    A name is a label, not a path: ``../../evil`` or ``/tmp/x`` must never steer where results
    go, so separators, control characters, leading dots and overlong names are refused.
    """
    if not label or UNSAFE_NAME.search(label) or label.startswith(".") or len(label) > 100:
        raise InputError(
            f"{source}: {clip(repr(label), 60)} cannot name a results folder (no '/', '\\', "
            "leading '.', control characters, at most 100 characters); rename it or give --out"
        )
    return label


def folder_kind(folder: Path) -> str | None:
    """The kind of result in ``folder``: from its marker, else guessed from its manifest."""
    marker = folder / MARKER
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return str(json.loads(marker.read_text(encoding="utf-8"))["kind"])
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if "experiment" in manifest and "design" in manifest:
            return "sweep"
        if "scenario_hash" in manifest:
            return "run"
        if "scenarios" in manifest and "seeds" in manifest:
            return "compare"
    return None


def foreign_entries(folder: Path) -> list[str]:
    """Entries of ``folder`` other than klaster's own bookkeeping files, sorted."""
    return sorted(entry.name for entry in folder.iterdir() if entry.name not in OWN_HIDDEN)


def check_target(
    target: Path, kind: str, overwrite: bool = False, option: str = "--out", locked: bool = False
) -> None:
    """Refuse, before any work, an output place klaster may not use; never writes anything.

    ``locked``: this process holds the folder lock already (re-checking under it).
    """
    shown = clip(str(target), 200)
    try:
        _check_parents(target, option)
        if target.is_symlink() and not target.exists():
            raise InputError(f"{option} {shown}: a broken symbolic link; choose another folder")
        if target.exists() and not target.is_dir():
            raise InputError(
                f"{option} {shown}: exists and is not a folder; choose another {option}"
            )
        if not target.is_dir():
            return
        holder = None if locked else lock_holder(target)
        if holder is not None:
            raise SweepLocked(
                f"{shown}: another sweep is writing to this folder ({holder}); wait for it to "
                f"finish or choose another {option}"
            )
        found = folder_kind(target)
        if found == kind or overwrite:
            return
        entries = foreign_entries(target)
        if not entries:
            return
    except OSError as exc:
        raise os_error(exc, target) from None
    what = (
        f"a {found} result folder"
        if found
        else f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, e.g. {entries[0]!r}"
    )
    raise InputError(
        f"{option} {shown}: not empty and not a {kind} result folder (it holds {clip(what, 80)}); "
        f"choose another {option}, or add --overwrite to write klaster's {kind} files into it "
        "(other files are left alone)"
    )


def _check_parents(target: Path, option: str) -> None:
    """The nearest existing ancestor must be a folder (``--out report.csv/x`` is refused)."""
    for parent in target.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"{option} {clip(str(target), 200)}: {clip(str(parent), 120)} is a file, "
                    "not a folder"
                )
            return


@contextlib.contextmanager
def atomic_folder(target: Path, kind: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success its files move into ``target`` (never deleting any).

    A new target is created by renaming the staging folder (atomic); into an existing folder,
    files are moved one by one under the folder lock, the manifest last. On any failure the
    staging folder, and the parent folders this call created, are removed.
    """
    target = Path(target)
    check_target(target, kind, overwrite)
    created = _make_parents(target.parent)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name[:50]}.klaster-", dir=target.parent))
        staging.chmod(ordinary_folder_mode())  # mkdtemp makes it 0700; results are meant to be read
        yield staging
        write_marker(staging, kind)
        _commit(staging, target, kind, overwrite)
    except BaseException as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError):  # name the folder asked for, not the staging folder
            raise os_error(OSError(exc.errno, exc.strerror, str(target))) from None
        raise


def _make_parents(folder: Path) -> list[Path]:
    """``mkdir -p`` that returns the folders it created (outermost first), to undo them."""
    missing = []
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing.append(candidate)
    created = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError:
            for done in reversed(created):
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise
        created.append(candidate)
    return created


def _commit(staging: Path, target: Path, kind: str, overwrite: bool) -> None:
    with contextlib.suppress(FileExistsError, OSError):
        if not target.exists():
            os.rename(staging, target)  # fails if target appeared meanwhile and is not empty
            return
    with folder_lock(target):
        check_target(target, kind, overwrite, locked=True)
        names = sorted(
            (entry.name for entry in staging.iterdir()),
            key=lambda name: (name in ("manifest.json", MARKER), name),
        )
        for name in names:
            os.replace(staging / name, target / name)
        staging.rmdir()


def write_marker(folder: Path, kind: str) -> None:
    """Record what wrote ``folder``: the kind of result (a human can read it too)."""
    from sim import __version__

    (folder / MARKER).write_text(
        json.dumps({"kind": kind, "written_by": f"klaster {__version__}"}) + "\n",
        encoding="utf-8",
    )


def lock_holder(folder: Path) -> str | None:
    """Who holds the folder lock (``pid N on host``), or None if no live process does."""
    import fcntl

    for name in (LOCK_NAME, ".sweep.lock"):
        path = folder / name
        if not path.is_file():
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return clip(handle.read().strip(), 100) or "unknown process"
    return None


@contextlib.contextmanager
def folder_lock(folder: Path, claim: bool = True) -> Iterator[None]:
    """Hold ``folder`` for this process, or refuse clearly if another process holds it.

    A claimed lock's file is removed on release (no leftover after a finished command); a
    process that locked a file just removed this way sees it is no longer the folder's lock file
    and tries again.
    """
    import fcntl

    path = folder / LOCK_NAME
    while True:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole block)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise SweepLocked(
                f"{folder}: another sweep is writing to this folder ({clip(holder, 100)}); wait "
                "for it to finish or choose another --out"
            ) from None
        if _same_file(handle, path):
            break
        handle.close()  # locked a lock file its holder had just removed: take the new one
    try:
        if claim:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
        yield
    finally:
        if claim:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # still holding the lock, so no other process is inside
        handle.close()


def _same_file(handle: Any, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def ordinary_folder_mode() -> int:
    """What ``mkdir`` would give under the current umask (0755 with the usual 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


# errors that say the place or the machine failed, not the input
_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
}


def os_error(exc: OSError, path: Path | str | None = None) -> Exception:
    """One message naming the path and the cause: an EnvironmentFailure (exit 3) for the
    machine's problems (space, permissions, read-only, I/O), an InputError (exit 2) for a path
    that cannot be what was asked (not a folder, a name too long, ...)."""
    where = clip(str(exc.filename or path or "?"), 200)
    if exc.errno in _ENVIRONMENT_ERRNOS:
        return EnvironmentFailure(f"{where}: {_ENVIRONMENT_ERRNOS[exc.errno]}")
    cause = exc.strerror or clip(str(exc), 120)
    if exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.ENOENT):
        return InputError(f"{where}: {cause.lower()}")
    return EnvironmentFailure(f"{where}: {cause.lower()}")
