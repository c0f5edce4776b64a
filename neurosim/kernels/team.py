"""Threads that stay in one parallel region for a whole call: a start handshake and a step
barrier on an int64 array ``team`` (atomic operations, LLVM's ``atomicrmw`` / ``cmpxchg`` /
atomic loads and stores).

Why: a Numba ``prange`` region costs ~2.3 us to open and close (OpenMP layer, this machine),
once per time step when the threads meet at the end of every step's region. At N = 64,000 a
step of the CUBA network takes ~40 us on one thread, so on two threads the regions cost
~10 % of a step. Here the threads enter one region per call of the compiled loop and meet at
a barrier (~70 ns) instead. Measured side by side: ``experiments/bench_variants.py --compare
persistent``.

A barrier waits for every thread, so it is only safe when every iteration of the region runs
on its own thread at the same time, which no threading layer promises (TBB may run two
iterations one after the other on one thread; a team may be smaller than asked). So the
region starts with :func:`join`: every iteration announces itself and waits until all have
arrived; if they have not within ~``JOIN_SPINS`` waits, the first to give up declares the
handshake failed (one compare-and-swap decides, so all iterations agree), nobody uses a
barrier, and the caller runs the call with one region per step instead.

A thread that raises an exception leaves the region (Numba drops the exception), and the
others would wait for it at the next barrier for ever: the generated loop catches exceptions
in each thread's work and calls :func:`fail`, and every thread checks ``ERROR`` after each
barrier.

Memory order: arriving at a barrier is a sequentially consistent read-modify-write, the last
arrival publishes the next generation with another, and waiting threads read it with
acquire loads, so everything a thread wrote before the barrier is visible to every thread
after it. Waiting spins on ``pause`` and, after ``SPINS_BEFORE_YIELD`` rounds, also yields the
core (``sched_yield``), so threads that outnumber free cores still get on.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: slots of ``team`` (int64, ``SIZE`` entries; counters 8 apart, one cache line each)
MODE = 0  #: set by the caller: 1 = try one region per call, 0 = one region per step
STATE = 8  #: handshake: 0 undecided, 1 all threads arrived, 2 failed
ARRIVED = 16  #: iterations that reached the handshake
COUNT = 24  #: arrivals at the current barrier
GENERATION = 32  #: barriers completed
STOP = 40  #: the step at which the threads stop (n_steps, or where a monitor was full)
ERROR = 48  #: 0, or 1 + the thread whose work raised an exception first
ERROR_STEP = 56  #: the step in which it did
SIZE = 64
#: handshake result values
UNDECIDED, GO, FAILED = 0, 1, 2

#: waits (pause, then pause + yield) before a handshake is given up
JOIN_SPINS = 1 << 20
#: pause-only waits before a waiting thread also yields its core
SPINS_BEFORE_YIELD = 1 << 10

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
_POSIX = platform.system() != "Windows"


def _slot(context, builder, sig, args):
    """Pointer to ``arr[idx]`` (the first two arguments)."""
    aryty, idxty = sig.args[0], sig.args[1]
    ary = context.make_array(aryty)(context, builder, args[0])
    i = context.cast(builder, args[1], idxty, types.intp)
    return cgutils.get_item_pointer(context, builder, aryty, ary, [i], wraparound=False)


def _int64_vector(arr) -> bool:
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.int64


@intrinsic
def atomic_add(typingctx, arr, idx, value):
    """``arr[idx] += value`` as one sequentially consistent operation; returns the old value."""
    if not (_int64_vector(arr) and isinstance(idx, types.Integer)
            and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", _slot(context, builder, sig, args), v, "seq_cst")

    return types.int64(arr, idx, value), codegen


@intrinsic
def atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read with acquire order (never hoisted out of a loop)."""
    if not (_int64_vector(arr) and isinstance(idx, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_slot(context, builder, sig, args), "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, value):
    """``arr[idx] = value`` with release order."""
    if not (_int64_vector(arr) and isinstance(idx, types.Integer)
            and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(v, _slot(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, value), codegen


@intrinsic
def compare_swap(typingctx, arr, idx, expected, value):
    """If ``arr[idx] == expected`` set it to ``value`` (one sequentially consistent
    operation); returns the value found."""
    if not (_int64_vector(arr) and isinstance(idx, types.Integer)
            and isinstance(expected, types.Integer) and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        old = context.cast(builder, args[2], sig.args[2], types.int64)
        new = context.cast(builder, args[3], sig.args[3], types.int64)
        pair = builder.cmpxchg(_slot(context, builder, sig, args), old, new, "seq_cst",
                               "seq_cst")
        return builder.extract_value(pair, 0)

    return types.int64(arr, idx, expected, value), codegen


@intrinsic
def _pause(typingctx):
    """x86 ``pause`` (a spin-wait hint); nothing elsewhere."""

    def codegen(context, builder, sig, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _yield(typingctx):
    """``sched_yield()`` (POSIX): let another runnable thread have this core."""

    def codegen(context, builder, sig, args):
        if _POSIX:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(nogil=True, inline="always")
def relax(spins):
    """One round of waiting: pause; after ``SPINS_BEFORE_YIELD`` rounds yield the core too."""
    _pause()
    if spins >= SPINS_BEFORE_YIELD:
        _yield()


@njit(nogil=True)
def join(team, n_threads):
    """Handshake of the ``n_threads`` iterations of a region: True (for every iteration) when
    all of them are running at once, False (for every iteration) when they were not all there
    after ``JOIN_SPINS`` rounds of waiting."""
    if atomic_add(team, ARRIVED, 1) == n_threads - 1:
        compare_swap(team, STATE, UNDECIDED, GO)
    spins = 0
    while True:
        state = atomic_load(team, STATE)
        if state != UNDECIDED:
            return state == GO
        spins += 1
        if spins >= JOIN_SPINS:
            compare_swap(team, STATE, UNDECIDED, FAILED)
        relax(spins)


@njit(nogil=True)
def fail(team, t, k):
    """Thread t's work in step k raised an exception: the first such thread is kept in
    ``ERROR`` / ``ERROR_STEP``; every thread stops at the next barrier."""
    if compare_swap(team, ERROR, 0, 1 + t) == 0:
        atomic_store(team, ERROR_STEP, k)


@njit(nogil=True)
def barrier(team, n_threads, generation):
    """Wait until all ``n_threads`` threads have called this for barrier ``generation`` (the
    number of barriers they passed before); returns ``generation + 1``."""
    if atomic_add(team, COUNT, 1) == n_threads - 1:
        atomic_store(team, COUNT, 0)
        atomic_add(team, GENERATION, 1)
    else:
        spins = 0
        while atomic_load(team, GENERATION) == generation:
            spins += 1
            relax(spins)
    return generation + 1
