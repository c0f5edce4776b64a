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

    #: steps per block of events; each block has its own seeded generator
    BLOCK = 1024

    def events(self, k0: int, n_steps: int, dt: float, key: tuple[int, ...]):
        """The events of steps k0 .. k0 + n_steps - 1.

        Events are drawn in fixed blocks of ``BLOCK`` steps, block b from a generator seeded
        with ``(*key, b)``, so the spikes do not depend on how a run is cut into calls.
        """
        parts_s, parts_i = [], []
        for b in range(k0 // self.BLOCK, (k0 + n_steps - 1) // self.BLOCK + 1):
            steps, idx = self._block(b, dt, key)
            steps = steps + (b * self.BLOCK - k0)
            sel = (steps >= 0) & (steps < n_steps)
            parts_s.append(steps[sel])
            parts_i.append(idx[sel])
        steps, idx = np.concatenate(parts_s), np.concatenate(parts_i)
        order = np.argsort(steps, kind="stable")
        return _csr_by_step(steps[order], idx[order], n_steps)

    def _block(self, b: int, dt: float, key):
        cached = getattr(self, "_cache", None)
        if cached is not None and cached[0] == (b, dt, key):
            return cached[1]
        rng = np.random.default_rng(np.random.SeedSequence([*key, b]))
        p = self.rate * dt * 1e-3
        units = np.flatnonzero(p > 0)
        steps_l, idx_l = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        if units.size:
            pos = rng.geometric(p[units]) - 1
            while units.size:
                alive = pos < self.BLOCK
                units, pos = units[alive], pos[alive]
                steps_l.append(pos)
                idx_l.append(units)
                pos = pos + rng.geometric(p[units])
        out = np.concatenate(steps_l), np.concatenate(idx_l)
        self._cache = ((b, dt, key), out)
        return out

    def set_rate(self, rate) -> None:
        """Validate and set a new rate (takes effect from the next run)."""
        self.rate = PoissonInput(self.name, self.size, rate).rate
        self._cache = None


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

    def events(self, k0: int, n_steps: int, dt: float, key):
        lo, hi = np.searchsorted(self._steps, [k0, k0 + n_steps])
        return _csr_by_step(self._steps[lo:hi] - k0, self._idx[lo:hi], n_steps)


class CurrentStep:
    """A piecewise-constant external current (pA) injected into neurons of a population.

    ``amplitudes[j]`` holds from ``times[j]`` (ms) on, i.e. from step ``round(times[j]/dt)``,
    until the next change; before ``times[0]`` the current is 0. ``amplitudes`` is either one
    value per time, the same for every unit, or an array ``(n_times, n_units)`` with one column
    per unit (per-neuron bias currents, e.g. ``times=[0], amplitudes=[biases]``). ``indices``
    picks the units (default: all). Several current stimuli on one unit add up.
    """

    def __init__(self, target: str, times, amplitudes, indices=None):
        self.target = target
        owner = f"CurrentStep on '{target}'"
        t = np.asarray(times, dtype=np.float64).ravel()
        a = np.asarray(amplitudes, dtype=np.float64)
        if a.ndim == 0 or a.ndim > 2 or a.shape[0] != t.size or t.size == 0:
            raise bad(owner, "amplitudes", f"array of shape {a.shape}",
                      f"must be (n_times,) or (n_times, n_units) with n_times = {t.size} >= 1")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
            raise bad(owner, "times/amplitudes", (t, a), "must be finite")
        if np.any(np.diff(t) < 0) or t[0] < 0:
            raise bad(owner, "times", t, "must be >= 0 and non-decreasing")
        self.times, self.amplitudes = t, a
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64).ravel()

    def compile(self, size: int, dt: float):
        """(change steps, amplitude changes (n_times, n_units), unit indices) for the loop."""
        owner = f"CurrentStep on '{self.target}'"
        if self.indices is not None and self.indices.size and (
                self.indices.min() < 0 or self.indices.max() >= size):
            raise bad(owner, "indices", self.indices, f"must be in 0..{size - 1}")
        idx = (np.arange(size) if self.indices is None else self.indices).astype(np.int32)
        amps = self.amplitudes
        if amps.ndim == 1:
            amps = np.repeat(amps[:, None], idx.size, axis=1)
        elif amps.shape[1] != idx.size:
            raise bad(owner, "amplitudes", f"array of shape {amps.shape}",
                      f"needs one column per unit ({idx.size})")
        steps = to_steps(self.times, dt).astype(np.int64)
        delta = np.diff(amps, axis=0, prepend=np.zeros((1, idx.size)))
        return steps, np.ascontiguousarray(delta), idx
