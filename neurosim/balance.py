"""Which thread integrates which units: shares moved toward the faster thread between calls.

A threaded network splits every large population into one range of consecutive units per
thread (``chunks``); thread t delivers into, integrates and compacts the spikes of range t,
and every projection onto the population keeps, per synapse row, where each range's targets
begin (``bounds``). Every target adds its inputs in spike order whatever thread adds them,
so the results do not depend on where the ranges end (bit for bit;
tests/engine/test_balance.py).

Why move them: on a machine whose cores do not run at one speed (a VM whose second vCPU is
shared with other guests runs at half speed for tenths of seconds at a time), equal ranges
make the fast thread wait for the slow one at the end of every step. The generated loop
counts each thread's ticks (:func:`neurosim.kernels.clock.cycles`) over a call of
``run_chunk``; after the call :class:`Balancer` estimates each thread's speed (units per
tick), smooths it over calls, and proposes ranges on which the threads would take equal
time, when that shortens the slowest thread's time by more than ``MIN_GAIN``. The
simulation then moves the cuts (:meth:`neurosim.Simulation._set_cuts`): the inner columns of
the bounds are searched again (``kernels.engine.move_cuts``; ~3 ms a move at N = 64,000,
``experiments/bench_variants.py --compare balance`` prints it) and the
kept spike lists are laid out for the new ranges. A steady machine pays nothing: the
ranges stay.
"""

from __future__ import annotations

import numpy as np

#: relative saving of the slowest thread's time below which the ranges stay
MIN_GAIN = 0.04
#: weight of the newest call in the smoothed speeds
SMOOTHING = 0.5
#: range boundaries are multiples of this many units (the spike flags are scanned 8 at once)
MULTIPLE = 8


def cut_units(n: int, shares: np.ndarray) -> np.ndarray:
    """Boundaries 0 = b0 <= b1 <= ... = n of ranges of ``n`` units near the cumulative
    ``shares`` (0 = shares[0] <= ... <= shares[T] = 1), inner ones multiples of
    ``MULTIPLE``, every range at least ``MULTIPLE`` units where n allows."""
    n_threads = shares.size - 1
    b = np.empty(n_threads + 1, np.int64)
    b[0], b[-1] = 0, n
    room = MULTIPLE if n >= MULTIPLE * n_threads else 0
    for t in range(1, n_threads):
        want = int(round(shares[t] * n / MULTIPLE)) * MULTIPLE
        top = (n - room * (n_threads - t)) // MULTIPLE * MULTIPLE
        b[t] = min(max(want, b[t - 1] + room), top)
    return b


class Balancer:
    """The thread shares of one simulation (see the module docstring).

    Parameters
    ----------
    chunks
        The range boundaries of each neuron population (threads + 1 entries where the
        population is split, [0, n] where thread 0 runs all of it); read, not changed.
    n_threads
        Threads of the simulation.
    """

    def __init__(self, chunks: list[np.ndarray], n_threads: int):
        self.chunks = chunks
        self.n_threads = n_threads
        self.speed: np.ndarray | None = None
        self.moves = 0
        #: per call: the fastest thread's speed over the slowest's (1 = even)
        self.spread: list[float] = []
        #: seconds each move took (the simulation times its ``_set_cuts``)
        self.move_s: list[float] = []

    def units(self, chunks: list[np.ndarray] | None = None) -> np.ndarray:
        """Units integrated by each thread."""
        u = np.zeros(self.n_threads)
        for c in self.chunks if chunks is None else chunks:
            u[:c.size - 1] += np.diff(c)
        return u

    def shares(self) -> np.ndarray:
        """Fraction of all units integrated by each thread."""
        u = self.units()
        return u / u.sum()

    def update(self, busy: np.ndarray, move: bool = True) -> list[np.ndarray] | None:
        """Take the ticks each thread spent in the last call; return new boundaries for
        every population (unsplit ones unchanged) if moving is worth it (and ``move``),
        else None."""
        busy = np.asarray(busy, dtype=np.float64)
        u = self.units()
        if np.any(busy <= 0) or np.any(u <= 0):
            return None  # no counter on this CPU, or a thread without units
        speed = u / busy
        self.spread.append(float(speed.max() / speed.min()))
        self.speed = speed if self.speed is None else (
            SMOOTHING * speed + (1.0 - SMOOTHING) * self.speed)
        if not move:
            return None
        shares = np.concatenate([[0.0], np.cumsum(self.speed / self.speed.sum())])
        shares[-1] = 1.0
        new = [cut_units(int(c[-1]), shares) if c.size > 2 else c for c in self.chunks]
        if np.max(self.units(new) / self.speed) > (1.0 - MIN_GAIN) * np.max(u / self.speed):
            return None
        self.moves += 1
        return new
