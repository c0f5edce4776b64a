"""``prefetch(a, i)`` / ``prefetch_read(a, i)``: ask the CPU to bring ``a[i]`` into its caches
(LLVM's ``llvm.prefetch``), to be written / only read.

For loops that read or write a large array at indices known a few iterations ahead (the
postsynaptic walk of a plastic projection reads the weights of one target, scattered over the
whole weight array; event delivery reads the target list of the next spiking unit): issuing
the loads early lets several cache misses overlap. A hint only: no effect on results, no
fault on any address (callers still keep ``i`` in bounds). Read prefetches leave a line that
another thread reads (the two halves of one target list) shared between the cores.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _prefetch(rw: int):
    """The intrinsic prefetching element ``idx`` of a 1-d array for reading (``rw = 0``) or
    writing (``rw = 1``), high temporal locality."""

    def typer(typingctx, arr, idx):
        if not isinstance(arr, types.Array) or arr.ndim != 1 or \
                not isinstance(idx, types.Integer):
            return None
        sig = types.void(arr, idx)

        def codegen(context, builder, signature, args):
            aryty, idxty = signature.args
            ary = context.make_array(aryty)(context, builder, args[0])
            i = context.cast(builder, args[1], idxty, types.intp)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [i], wraparound=False)
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
            # rw, locality = 3 (keep), cache type = 1 (data)
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(rw), i32(3), i32(1)])
            return context.get_dummy_value()

        return sig, codegen

    typer.__name__ = "prefetch" if rw else "prefetch_read"
    return intrinsic(typer)


prefetch = _prefetch(1)
prefetch_read = _prefetch(0)
