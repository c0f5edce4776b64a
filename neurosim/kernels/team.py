"""Threads that run every step of a call together: one OS thread per range of units, meeting
at a barrier (atomic operations on an int64 array ``team``) twice per step.

Why not Numba's ``prange``: a ``prange`` region costs ~2.3 us to open and close (OpenMP
layer, this machine), once per time step when the threads meet at the end of every step's
region; at N = 64,000 a CUBA step takes ~40 us on one thread, so on two threads the regions
cost ~10 % of a step. Here the generated ``thread_steps`` (one compiled, GIL-free function per
thread) runs all the steps of a call, and the threads wait for each other at
:func:`barrier` (~70 ns). :func:`run_threads` starts threads 1 .. T-1 as Python threads and
runs thread 0 itself (~0.1 ms per call on two threads here, starting and joining included:
nothing for a call of ``chunk`` = 100 ms of biology, 1,000 steps; more than the per-step
regions cost for calls of less than ~5 ms). Since they are
real threads, all of them run at once, which a barrier needs and no ``prange`` layer promises
(TBB may run two iterations one after the other). No OpenMP runtime is involved either.

An exception raised in one thread (e.g. a division by zero in a model kernel) leaves that
thread's steps; :func:`run_threads` marks it in ``team[ERROR]``, waiting threads see the mark
in :func:`barrier` and leave too, and the exception is raised again in the caller.

Memory order: arriving at a barrier is a sequentially consistent read-modify-write, the last
arrival publishes the next generation with another, and waiting threads read it with acquire
loads, so everything a thread wrote before the barrier is visible to every thread after it.
Waiting spins on ``pause`` and, after ``SPINS_BEFORE_YIELD`` rounds, also yields the core
(``sched_yield``), so threads that outnumber free cores still get on.
"""

from __future__ import annotations

import platform
import threading

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: slots of ``team`` (int64, ``SIZE`` entries; counters 8 apart, one cache line each)
COUNT = 0  #: arrivals at the current barrier
GENERATION = 8  #: barriers completed
STOP = 16  #: the step at which the threads stop (n_steps, or where a monitor was full)
ERROR = 24  #: 0, or 1 + the thread that raised an exception first
SIZE = 32

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


def _accepts(arr, *integers) -> bool:
    """Whether the intrinsic's arguments are a 1-d int64 array and integers."""
    return (isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.int64
            and all(isinstance(x, types.Integer) for x in integers))


def _int64(context, builder, sig, args):
    """The third argument (the value) as int64."""
    return context.cast(builder, args[2], sig.args[2], types.int64)


@intrinsic
def atomic_add(typingctx, arr, idx, value):
    """``arr[idx] += value`` as one sequentially consistent operation; returns the old value."""
    if not _accepts(arr, idx, value):
        return None

    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _slot(context, builder, sig, args),
                                  _int64(context, builder, sig, args), "seq_cst")

    return types.int64(arr, idx, value), codegen


@intrinsic
def atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read with acquire order (never hoisted out of a loop)."""
    if not _accepts(arr, idx):
        return None

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_slot(context, builder, sig, args), "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, value):
    """``arr[idx] = value`` with release order."""
    if not _accepts(arr, idx, value):
        return None

    def codegen(context, builder, sig, args):
        builder.store_atomic(_int64(context, builder, sig, args),
                             _slot(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, value), codegen


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


@njit(nogil=True)
def barrier(team, n_threads, generation):
    """Wait until all ``n_threads`` threads have called this for barrier ``generation`` (the
    number of barriers they passed before), or until ``team[ERROR]`` is set; returns
    ``generation + 1``."""
    if atomic_add(team, COUNT, 1) == n_threads - 1:
        atomic_store(team, COUNT, 0)
        atomic_add(team, GENERATION, 1)
    else:
        spins = 0
        while atomic_load(team, GENERATION) == generation and atomic_load(team, ERROR) == 0:
            spins += 1
            _pause()
            if spins >= SPINS_BEFORE_YIELD:
                _yield()
    return generation + 1


def run_threads(steps, complete, k0: int, n_steps: int, n_threads: int, args: tuple) -> int:
    """Run ``steps(t, k0, n_steps, n_threads, *args)`` for t = 1 .. n_threads - 1 on new
    threads and for t = 0 here, then ``complete(k0, done, n_threads, *args)``; returns the
    steps done (``team[STOP]``). ``args[-1]`` is the team array. An exception in any thread
    stops all of them and is raised here."""
    team = args[-1]
    team[COUNT] = team[GENERATION] = team[ERROR] = 0
    team[STOP] = n_steps
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(t):
        try:
            steps(t, k0, n_steps, n_threads, *args)
        except BaseException as e:  # noqa: BLE001 - passed on below
            with lock:
                if not errors:
                    errors.append(e)
                    team[ERROR] = 1 + t  # waiting threads leave their barrier

    workers = []
    try:
        for t in range(1, n_threads):
            w = threading.Thread(target=run, args=(t,), name=f"neurosim-{t}", daemon=True)
            w.start()
            workers.append(w)
    except BaseException:  # e.g. no thread could be started: release those that were
        team[ERROR] = n_threads + 1
        for w in workers:
            w.join()
        raise
    run(0)
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    done = int(team[STOP])
    complete(k0, done, n_threads, *args)
    return done
