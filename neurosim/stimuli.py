"""Inputs: Poisson sources, explicit spike trains and step currents.

Sources are populations that emit spikes without integrating a state. For each run chunk
they hand the compiled loop their events as a CSR list over steps: the units that fire in
step ``k`` of the chunk are ``idx[ptr[k]:ptr[k + 1]]``. A unit listed twice in one step
delivers twice.

Times follow the clock convention of :mod:`neurosim.units`: a spike at time ``T`` is emitted
in step ``round(T/dt) - 1`` and carries the stamp ``T``.
"""

from __future__ import annotations

import numpy as np

from .errors import bad
from .population import check_name, check_size
from .units import to_steps


def _csr_by_step(steps: np.ndarray, idx: np.ndarray, n_steps: int):
    """Events sorted by step -> (ptr of length n_steps + 1, idx)."""
    ptr = np.zeros(n_steps + 1, np.int64)
    np.cumsum(np.bincount(steps, minlength=n_steps), out=ptr[1:])
    return ptr, idx.astype(np.int32)


class PoissonInput:
    """``size`` independent Poisson sources of ``rate`` Hz (scalar or one rate per unit).

    Discrete-time semantics (Brian2's ``PoissonGroup``): in every step each unit fires with
    probability ``rate * dt``, independently. The spikes are drawn exactly, in time
    proportional to their number, by geometric gaps between firing steps.
    """

    kind = "source"

    def __init__(self, name: str, size: int, rate):
        self.name = check_name("PoissonInput", name)
        owner = f"PoissonInput '{name}'"
        self.size = check_size(owner, size)
        r = np.asarray(rate, dtype=np.float64)
        if r.ndim == 0:
            r = np.full(self.size, float(r))
        if r.shape != (self.size,):
            raise bad(owner, "rate", f"array of shape {r.shape}", f"must be scalar or ({size},)")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise bad(owner, "rate", rate, "must be finite and >= 0 (Hz)")
        self.rate = r

    def check(self, dt: float):
        p = self.rate * dt * 1e-3
        if np.any(p > 1.0):
            raise bad(f"PoissonInput '{self.name}'", "rate", float(self.rate.max()),
                      f"exceeds one spike per step at dt = {dt} ms")

    def events(self, k0: int, n_steps: int, dt: float, rng: np.random.Generator):
        """The events of steps k0 .. k0 + n_steps - 1 (memoryless: chunks are independent)."""
        p = self.rate * dt * 1e-3
        units = np.flatnonzero(p > 0)
        steps_l, idx_l = [], []
        if units.size:
            pos = rng.geometric(p[units]) - 1
            while units.size:
                alive = pos < n_steps
                units, pos = units[alive], pos[alive]
                steps_l.append(pos)
                idx_l.append(units)
                pos = pos + rng.geometric(p[units])
        steps = np.concatenate(steps_l) if steps_l else np.empty(0, np.int64)
        idx = np.concatenate(idx_l) if idx_l else np.empty(0, np.int64)
        order = np.argsort(steps, kind="stable")
        return _csr_by_step(steps[order], idx[order], n_steps)


class SpikeTrain:
    """Spikes at given times: unit ``indices[j]`` fires at ``times[j]`` (ms, >= dt)."""

    kind = "source"

    def __init__(self, name: str, size: int, times, indices):
        self.name = check_name("SpikeTrain", name)
        owner = f"SpikeTrain '{name}'"
        self.size = check_size(owner, size)
        t = np.asarray(times, dtype=np.float64).ravel()
        i = np.asarray(indices).ravel()
        if t.shape != i.shape:
            raise bad(owner, "indices", f"length {i.size}", f"differs from times' {t.size}")
        if not np.all(np.isfinite(t)):
            raise bad(owner, "times", "array with NaN/inf", "must be finite (ms)")
        if i.size and (not np.issubdtype(i.dtype, np.integer) or i.min() < 0 or i.max() >= size):
            raise bad(owner, "indices", i, f"must be integers in 0..{size - 1}")
        self.times = t
        self.indices = i.astype(np.int64)

    def check(self, dt: float):
        if self.times.size and self.times.min() < dt * (1 - 1e-9):
            raise bad(f"SpikeTrain '{self.name}'", "times", float(self.times.min()),
                      f"is before the first step ends (spike times must be >= dt = {dt} ms)")

    def prepare(self, dt: float):
        steps = to_steps(self.times, dt) - 1
        order = np.argsort(steps, kind="stable")
        self._steps, self._idx = steps[order], self.indices[order]

    def events(self, k0: int, n_steps: int, dt: float, rng):
        lo, hi = np.searchsorted(self._steps, [k0, k0 + n_steps])
        return _csr_by_step(self._steps[lo:hi] - k0, self._idx[lo:hi], n_steps)


class CurrentStep:
    """A piecewise-constant external current (pA) injected into neurons of a population.

    ``amplitudes[j]`` holds from ``times[j]`` (ms) on, i.e. from step ``round(times[j]/dt)``,
    until the next change; before ``times[0]`` the current is 0. ``indices`` picks the units
    (default: all). Several current stimuli on one unit add up.
    """

    def __init__(self, target: str, times, amplitudes, indices=None):
        self.target = target
        owner = f"CurrentStep on '{target}'"
        t = np.asarray(times, dtype=np.float64).ravel()
        a = np.asarray(amplitudes, dtype=np.float64).ravel()
        if t.shape != a.shape or t.size == 0:
            raise bad(owner, "amplitudes", a, "must be as many as times (at least one)")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
            raise bad(owner, "times/amplitudes", (t, a), "must be finite")
        if np.any(np.diff(t) < 0) or t[0] < 0:
            raise bad(owner, "times", t, "must be >= 0 and non-decreasing")
        self.times, self.amplitudes = t, a
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64).ravel()

    def compile(self, size: int, dt: float):
        """(change steps, amplitude deltas, unit indices) for the compiled loop."""
        if self.indices is not None and self.indices.size and (
                self.indices.min() < 0 or self.indices.max() >= size):
            raise bad(f"CurrentStep on '{self.target}'", "indices", self.indices,
                      f"must be in 0..{size - 1}")
        steps = to_steps(self.times, dt).astype(np.int64)
        delta = np.diff(self.amplitudes, prepend=0.0)
        idx = (np.arange(size) if self.indices is None else self.indices).astype(np.int32)
        return steps, delta, idx
