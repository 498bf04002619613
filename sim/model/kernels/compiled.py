"""Compiled per-firm loops: one pass over the firms instead of dozens of numpy passes.

At 100,000 firms a quarter would be a few hundred whole-array numpy operations, each a trip
through memory; a loop compiled by numba does the arithmetic in one trip. Kernels do only IEEE
arithmetic, comparisons, gathers and sums in a fixed order (sums into bins in slot order, as
``np.bincount`` adds; whole-array totals as numpy's pairwise ``sum`` adds, ``sums.py``), while
transcendental functions (``exp``, ``log``) stay in numpy (numpy's vectorised ``exp``/``log``
round differently from the C library's), and ``error_model="numpy"`` keeps numpy's division
semantics (inf/nan, no exception). Random draws stay in numpy too, except where one kernel
does a whole phase (``firms.form_and_lapse_ties``): it draws numpy's uniforms, draw for draw,
through a ``draws.Stream`` (the bit generator's state and its own ``next_double``), because
handing a kernel the Generator itself costs ~6 us a call, more than a few draws.

Kernels take named inputs: firm or cluster columns as a NamedTuple bundle built by field name
(``columns_of``), parameters as a NamedTuple of floats; a kernel reads ``bundle.column[i]``.
numba types a NamedTuple argument at every call (~0.4 us plus ~0.1 us a field), so production,
called with ~20 parameters, passes them as a one-row record and turns it into its tuple inside
the kernel (``production.rates_of``: read from the record in a loop, each parameter would be
loaded again after every store into an array).

Compiled code is cached on disk, so only the first run on a machine pays the compilation
(``python -m sim.model.warmup``, which ``make install`` runs, compiles everything up front). The
cache folder is named by the digest of the model's code (``sim.model.digest``: every file in
``sim/model/`` and ``sim/scenario/``), so a kernel that inlines another module's kernel or reads
a constant from ``sim.scenario.codes`` never runs stale code: any change to the model
recompiles everything, and a change to the report, the viewer or the commands recompiles
nothing. The folder is ``sim/model/__pycache__/kernels-<digest>`` (or the user cache folder if
the package is read-only); ``NUMBA_CACHE_DIR`` overrides it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numba

from sim.model.digest import code_digest

F = TypeVar("F", bound=Callable)
B = TypeVar("B")


def _kernel_cache_folder() -> Path:
    """``kernels-<digest>`` in the model package's ``__pycache__`` (or the user's cache folder);
    folders of earlier code versions are removed after an hour."""
    cache = Path(__file__).resolve().parent.parent / "__pycache__"
    try:
        cache.mkdir(exist_ok=True)
        writable = os.access(cache, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "klaster"
    folder = cache / f"kernels-{code_digest()}"
    hour_ago = time.time() - 3600  # (a process of the previous version may still be writing)
    for stale in cache.glob("kernels-*"):
        if stale != folder and stale.stat().st_mtime < hour_ago:
            shutil.rmtree(stale, ignore_errors=True)
    return folder


def keep_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Ask glibc's allocator to keep freed memory for reuse rather than hand it back to the
    operating system (a no-op where glibc is absent; returns whether it applied).

    A quarter allocates and frees per-firm arrays of up to a few MB each. With glibc's dynamic
    thresholds, small changes in when arrays are freed can make it trim the heap (or serve them
    by ``mmap``) every quarter, and each reuse then pays a page fault per 4 KB: about 2,200
    faults and half the time of ``produce_and_sell`` at 100k firms. Fixed thresholds keep
    freed blocks on the heap: the resident size stays at the run's peak, which it reaches
    every quarter anyway.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, mmap_threshold)) and bool(
        mallopt(m_trim_threshold, trim_threshold)
    )


keep_freed_memory()

if not os.environ.get("NUMBA_CACHE_DIR"):  # must be set before the first kernel is defined
    numba.config.CACHE_DIR = str(_kernel_cache_folder())


def kernel(function: F) -> F:
    """Compile a per-firm loop (cached on disk; numpy's division and overflow semantics)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


@kernel
def floor_at(x: float, low: float) -> float:
    """``np.maximum(x, low)`` for a number ``low``: x unless it is below ``low`` (NaN stays NaN)."""
    return low if x < low else x


@kernel
def cap_at(x: float, high: float) -> float:
    """``np.minimum(x, high)`` for a number ``high``: x unless it is above ``high`` (NaN stays)."""
    return high if x > high else x


@kernel
def clip_to(x: float, low: float, high: float) -> float:
    """``np.clip(x, low, high)`` for one float, as numpy's clip does it: x unless it lies
    outside the bounds (NaN passes; -0.0 at a bound of 0.0 stays -0.0)."""
    return cap_at(floor_at(x, low), high)


def columns_of(source: object, bundle: type[B]) -> B:
    """The columns a kernel's ``bundle`` (a NamedTuple) names, taken by name from ``source``
    (``model.firms``, ``model.clusters``): views, so a kernel writes them in place."""
    return bundle(*(getattr(source, name) for name in bundle._fields))  # type: ignore[attr-defined]
