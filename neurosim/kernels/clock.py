"""``cycles()``: the CPU's time-stamp counter (x86 ``rdtsc``, LLVM's ``llvm.readcyclecounter``),
readable from compiled code, where ``time.perf_counter`` is not.

The threaded loop reads it at the start and end of each thread's share of a step, so that
:class:`neurosim.Simulation` can move units from a thread that ran slower to one that ran
faster (the cores of a shared machine do not run at one speed). Ticks at a constant rate on
current x86 CPUs, also in virtual machines; only differences on one thread are used. Other
architectures (where the counter may not be readable from user code) get 0, and no
rebalancing.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: whether ``cycles()`` reads a counter here (x86) or always returns 0
COUNTS = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


@intrinsic
def cycles(typingctx):
    """The time-stamp counter (int64 ticks), or 0 where :data:`COUNTS` is false."""

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        if not COUNTS:
            return i64(0)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen
