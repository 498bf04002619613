"""Uniform draws from a numpy Generator inside a kernel, without handing the kernel the
Generator itself.

numba unboxes a ``np.random.Generator`` argument in ~6 us a call (it casts its bit generator's
ctypes function pointers in Python each time): more than a small world's whole tie dynamics.
A ``Stream`` is what that unboxing extracts, as two plain integers: the address of the bit
generator's state and of its ``next_double`` function. ``uniforms`` calls that function once a
draw, which is exactly what ``Generator.random`` does (numpy's ``random_standard_uniform_fill``;
numba's ``Generator.random`` does the same), so the numbers and the generator's state
afterwards are numpy's, draw for draw (``tests/test_exact_firms.py``).
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from sim.model.kernels.compiled import kernel


class Stream(NamedTuple):
    """A bit generator as a kernel draws from it (valid while the generator lives)."""

    state: int  # address of the bit generator's state
    next_double: int  # address of its C function: state -> a uniform in [0, 1)


def stream_of(rng: np.random.Generator) -> Stream:
    """The ``Stream`` of ``rng``'s bit generator: ~1 us, against ~6 us to pass ``rng``."""
    interface = rng.bit_generator.ctypes  # numpy keeps it per bit generator
    # a ctypes function pointer holds the function's address as its buffer
    function = ctypes.c_void_p.from_buffer(interface.next_double).value
    return Stream(interface.state_address, function)


@intrinsic
def _next_double(typingctx, function, state):
    """Call the C function at address ``function`` on the state at address ``state``."""

    def codegen(context, builder, signature, args):
        void_pointer = ir.IntType(8).as_pointer()
        function_type = ir.FunctionType(ir.DoubleType(), [void_pointer])
        target = builder.inttoptr(args[0], function_type.as_pointer())
        return builder.call(target, [builder.inttoptr(args[1], void_pointer)])

    return types.float64(function, state), codegen


@kernel
def uniform(stream: Stream) -> float:
    """One draw: ``Generator.random()``."""
    return _next_double(stream.next_double, stream.state)


@kernel
def uniforms(stream: Stream, n: int) -> np.ndarray:
    """``n`` draws, in order: ``Generator.random(n)``."""
    out = np.empty(n)
    for i in range(n):
        out[i] = _next_double(stream.next_double, stream.state)
    return out
