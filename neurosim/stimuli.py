"""Inputs: Poisson sources, explicit spike trains, step currents and noise currents.

Sources are populations that emit spikes without integrating a state. For each run chunk
they hand the compiled loop their events as a CSR list over steps: the units that fire in
step ``k`` of the chunk are ``idx[ptr[k]:ptr[k + 1]]``. A unit listed twice in one step
delivers twice.

Times follow the clock convention of :mod:`neurosim.units`: a spike at time ``T`` is emitted
in step ``round(T/dt) - 1`` and carries the stamp ``T``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .errors import bad
from .population import check_name, check_size
from .units import is_multiple, to_steps


def _units(owner: str, indices: np.ndarray | None, size: int) -> np.ndarray:
    """The units a current stimulus drives (``indices``, default all of ``size``), int32;
    indices outside the population are refused."""
    if indices is not None and indices.size and (indices.min() < 0 or indices.max() >= size):
        raise bad(owner, "indices", indices, f"must be in 0..{size - 1}")
    return (np.arange(size) if indices is None else indices).astype(np.int32)


def _csr_by_step(steps: np.ndarray, idx: np.ndarray, n_steps: int):
    """Events sorted by step -> (ptr of length n_steps + 1, idx)."""
    ptr = np.zeros(n_steps + 1, np.int64)
    np.cumsum(np.bincount(steps, minlength=n_steps), out=ptr[1:])
    return ptr, idx.astype(np.int32)


# ------------------------------------------------------------------------ Poisson kernels
# xoshiro256++ (Blackman & Vigna 2021), 256 bits of state; see PoissonInput for the seeding.
_U = np.uint64
_R23, _R41, _R45, _R19, _S17, _S11 = _U(23), _U(41), _U(45), _U(19), _U(17), _U(11)
_R30, _R27, _R31 = _U(30), _U(27), _U(31)
_ONE = _U(1)
_GAMMA = _U(0x9E3779B97F4A7C15)  # SplitMix64's increment and multipliers
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
_2M53 = 2.0 ** -53


@njit(cache=True)
def _splitmix(x):
    """SplitMix64's output function: a bijective mix of the 64-bit word ``x``."""
    x = (x ^ (x >> _R30)) * _M1
    x = (x ^ (x >> _R27)) * _M2
    return x ^ (x >> _R31)


@njit(cache=True)
def _seed(base, b):
    """The xoshiro256++ state of block ``b``: word j is SplitMix64 at position b + 1 of the
    stream started at ``base[j]``."""
    step = _U(b + 1) * _GAMMA
    s0, s1 = _splitmix(base[0] + step), _splitmix(base[1] + step)
    s2, s3 = _splitmix(base[2] + step), _splitmix(base[3] + step)
    if (s0 | s1 | s2 | s3) == _U(0):
        s0 = _ONE  # xoshiro's one forbidden state (probability 2**-256)
    return s0, s1, s2, s3


@njit(cache=True)
def _next(s0, s1, s2, s3):
    """(U uniform in (0, 1], next state): one step of xoshiro256++."""
    x = s0 + s3
    r = ((x << _R23) | (x >> _R41)) + s0
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _R45) | (s3 >> _R19)
    return np.float64((r >> _S11) + _ONE) * _2M53, s0, s1, s2, s3


@njit(cache=True, nogil=True)
def _block_same(base, b, n_units, lg, ptr, idx):
    """Block ``b`` of ``n_units`` sources sharing one firing probability p per step, ``lg`` =
    1 / log(1 - p). The cells ``c = step * n_units + unit`` in order are one Bernoulli(p)
    sequence: each gap to the next firing cell is ``1 + floor(log(U) * lg)``, so the events
    come out sorted by step, units ascending within a step. Fills ``ptr`` (length
    n_steps + 1) and ``idx``; returns the number of events, or -1 when ``idx`` is too short."""
    s0, s1, s2, s3 = _seed(base, b)
    n_steps = ptr.size - 1
    cap = idx.size
    ptr[:] = 0
    inv = 1.0 / n_units
    total = n_steps * n_units
    n = c = 0  # c: the next cell
    while True:
        u, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        g = np.floor(np.log(u) * lg)  # cells skipped before the next event
        if not g < total - c:  # (NaN, for a p so small that lg is -inf: no event)
            break
        c += np.int64(g)
        step = np.int64(c * inv)  # c // n_units without a division (and its branches)
        unit = c - step * n_units
        if unit < 0:  # rounding of c * inv, rare
            step -= 1
            unit += n_units
        elif unit >= n_units:
            step += 1
            unit -= n_units
        if n == cap:
            return -1
        idx[n] = unit
        ptr[step + 1] += 1
        n += 1
        c += 1
    for k in range(n_steps):
        ptr[k + 1] += ptr[k]
    return n


@njit(cache=True, nogil=True)
def _block_each(base, b, units, lg, ptr, idx, t_step, t_unit):
    """Block ``b`` of sources with their own firing probabilities: unit ``units[j]`` has
    ``lg[j]`` = 1 / log(1 - p). Each unit's firing steps follow from geometric gaps
    (``t_step``, ``t_unit`` hold them, unit by unit); a counting sort by step, stable, so
    units ascending within a step, fills ``ptr`` (length n_steps + 1) and ``idx``. Returns
    the number of events, or -1 when the buffers (all of one length) are too short."""
    s0, s1, s2, s3 = _seed(base, b)
    n_steps = ptr.size - 1
    cap = idx.size
    ptr[:] = 0
    n = 0
    for j in range(units.size):
        i, c = units[j], lg[j]
        u, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        pos = np.floor(np.log(u) * c)
        while pos < n_steps:
            if n == cap:
                return -1
            k = np.int64(pos)
            t_step[n] = k
            t_unit[n] = i
            ptr[k + 1] += 1
            n += 1
            u, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            pos += 1.0 + np.floor(np.log(u) * c)
    for k in range(n_steps):
        ptr[k + 1] += ptr[k]
    fill = ptr[:n_steps].copy()
    for e in range(n):
        k = t_step[e]
        idx[fill[k]] = t_unit[e]
        fill[k] += 1
    return n


class PoissonInput:
    """``size`` independent Poisson sources of ``rate`` Hz (scalar or one rate per unit).

    Discrete-time semantics (Brian2's ``PoissonGroup``): in every step each unit fires with
    probability ``p = rate * dt`` (``rate * dt * 1e-3`` with ``dt`` in ms), independently of
    the other units and steps; ``p`` may not exceed 1 (``check``). Units of rate 0 never fire.

    The spikes are drawn exactly, in compiled code, in time proportional to their number (not
    to units x steps), by geometric gaps between firing cells: a gap ``G`` with
    ``P(G = g) = (1 - p)**(g - 1) * p`` is ``1 + floor(log(U) / log(1 - p))`` for ``U``
    uniform in (0, 1]. When all units share one ``p`` the (step, unit) cells, in step-major
    order, form a single Bernoulli sequence and the events come out already sorted; otherwise
    each unit draws its own firing steps and a counting sort by step builds the event list.
    Within a step the units are listed in ascending order.

    Seeding: the events are drawn in fixed blocks of ``BLOCK`` steps (block ``b`` holds steps
    ``b * BLOCK .. (b + 1) * BLOCK - 1``), each from its own xoshiro256++ generator (256 bits
    of state). The simulation passes ``key = (seed, 2, i)`` for its population ``i``;
    ``base = SeedSequence(key).generate_state(4, uint64)`` is computed once per key, and word
    ``j`` of block ``b``'s state is SplitMix64's output for ``base[j] + (b + 1) * gamma``
    (gamma = 0x9E3779B97F4A7C15), i.e. position ``b + 1`` of a SplitMix64 stream started at
    ``base[j]``, the seeding the xoshiro authors recommend. So the events are a function of
    (key, rates, dt) alone: they do not depend on how a run is cut into ``run`` calls or
    chunks, nor on the number of threads, and the global generators of NumPy and Numba are
    neither used nor reseeded. The last block drawn is kept, since consecutive chunks share it;
    ``set_rate`` drops it.
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
        """The events of steps ``k0 .. k0 + n_steps - 1`` as ``(ptr, idx)``: the units firing in
        step ``k0 + k`` are ``idx[ptr[k]:ptr[k + 1]]`` (``ptr`` int64 of length
        ``n_steps + 1``, ``idx`` int32, ascending within a step).

        The steps are cut out of the blocks of ``BLOCK`` steps that cover them (see the class
        docstring), so the result does not depend on how a run is cut into calls.
        """
        B = self.BLOCK
        ptr = np.empty(n_steps + 1, np.int64)
        ptr[0] = 0
        parts = []
        done = n_ev = 0
        for b in range(k0 // B, (k0 + n_steps - 1) // B + 1):
            bptr, bidx = self._block(b, dt, key)
            lo, hi = max(k0 - b * B, 0), min(k0 + n_steps - b * B, B)
            a = bptr[lo]
            ptr[done + 1:done + 1 + hi - lo] = bptr[lo + 1:hi + 1] - (a - n_ev)
            parts.append(bidx[a:bptr[hi]])
            done += hi - lo
            n_ev += bptr[hi] - a
        if len(parts) == 1:
            return ptr, parts[0]  # a view of the cached block (the loop only reads it)
        return ptr, (np.concatenate(parts) if parts else np.empty(0, np.int32))

    def _block(self, b: int, dt: float, key):
        """(ptr of length BLOCK + 1, idx) of block ``b``; the last one is cached."""
        cached = getattr(self, "_cache", None)
        if cached is not None and cached[0] == (b, dt, key) and cached[2] is self.rate:
            return cached[1]
        prep = getattr(self, "_prep", None)
        if prep is None or prep[0] != dt or prep[1] is not self.rate:
            p = self.rate * dt * 1e-3
            with np.errstate(divide="ignore", over="ignore"):
                lg = 1.0 / np.log1p(-p)  # -0.0 where p = 1 (every step), -inf if p < 1e-308
            mean = float(p.sum()) * self.BLOCK
            cap = int(mean + 8.0 * np.sqrt(mean)) + 64  # rarely exceeded: then doubled
            units = np.flatnonzero(p > 0).astype(np.int32)
            same = units.size == self.size and bool(np.all(p == p[0]))
            prep = self._prep = [dt, self.rate, same, units, lg[units], cap]
        _, _, same, units, lg, cap = prep
        seeds = getattr(self, "_seeds", None)
        if seeds is None or seeds[0] != key:
            base = np.random.SeedSequence(list(key)).generate_state(4, np.uint64)
            seeds = self._seeds = (key, base)
        base = seeds[1]
        ptr = np.empty(self.BLOCK + 1, np.int64)
        while True:
            idx = np.empty(cap, np.int32)
            if same:
                n = _block_same(base, b, self.size, lg[0], ptr, idx)
            elif units.size:
                n = _block_each(base, b, units, lg, ptr, idx,
                                np.empty(cap, np.int32), np.empty(cap, np.int32))
            else:
                ptr[:] = 0
                n = 0
            if n >= 0:
                break
            cap = prep[5] = 2 * cap
        out = ptr, idx[:n]
        self._cache = ((b, dt, key), out, self.rate)
        return out

    def set_rate(self, rate) -> None:
        """Validate and set a new rate (takes effect from the next run)."""
        self.rate = PoissonInput(self.name, self.size, rate).rate
        self._cache = self._prep = None


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
        idx = _units(owner, self.indices, size)
        amps = self.amplitudes
        if amps.ndim == 1:
            amps = np.repeat(amps[:, None], idx.size, axis=1)
        elif amps.shape[1] != idx.size:
            raise bad(owner, "amplitudes", f"array of shape {amps.shape}",
                      f"needs one column per unit ({idx.size})")
        steps = to_steps(self.times, dt).astype(np.int64)
        delta = np.diff(amps, axis=0, prepend=np.zeros((1, idx.size)))
        return steps, np.ascontiguousarray(delta), idx


class NoiseCurrent:
    r"""A Gaussian noise current (pA), NEST's ``noise_generator``: each unit gets its own

    .. math::  I_u(t) = \mu + \sigma \xi_{u,m}, \qquad m\,\Delta \le t - t_0 < (m + 1)\Delta,

    with independent standard normal :math:`\xi_{u,m}`, redrawn every ``dt`` ms
    (:math:`\Delta`, a whole number of steps; default: the simulation step) from ``start``
    (:math:`t_0`) until ``stop`` (then 0). It enters the neurons as a current stimulus does
    (added to ``I_ext`` in the step it changes; several currents on one unit add up), so on
    ``iaf_psc_delta`` with :math:`\Delta = h` the membrane potential is the AR(1) process
    :math:`V_{k+1} - E = (V_k - E) P_{33} + I_k P_{30}` with stationary variance
    :math:`\sigma^2 P_{30}^2 / (1 - P_{33}^2)` (tests/models/test_noise_current.py).

    The draws depend only on the network's seed, the stimulus's position among the noise
    currents and the change number ``m``: blocks of changes (about 2**20 values each) come
    from ``numpy.random.default_rng((seed, 5, stimulus, block))``, so results do not depend
    on how a run is split into calls or on the number of threads. They are drawn per call of
    the compiled loop, which then reads them as a step current's changes; calls are
    shortened so that they stay below :data:`neurosim.simulation.NOISE_VALUES` values.
    Cost: a noise current redrawn every step on all 4,000 neurons of CUBA makes its loop 23x
    slower (0.568 vs 0.025 s per biological second, ~14 ns per value drawn by
    numpy and applied; ``experiments/bench_variants.py --compare noise``); redraw
    less often (``dt``) where the model allows.
    """

    def __init__(self, target: str, mean: float = 0.0, std: float = 0.0,
                 dt: float | None = None, start: float = 0.0, stop: float | None = None,
                 indices=None):
        self.target = target
        owner = f"NoiseCurrent on '{target}'"
        for name, v in (("mean", mean), ("std", std), ("start", start)):
            if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v)):
                raise bad(owner, name, v, "must be a finite number")
        if std < 0:
            raise bad(owner, "std", std, "must be >= 0 (pA)")
        if start < 0:
            raise bad(owner, "start", start, "must be >= 0 (ms)")
        if stop is not None and not (isinstance(stop, (int, float)) and stop > start):
            raise bad(owner, "stop", stop, f"must be a number > start ({start} ms) or None")
        if dt is not None and not (isinstance(dt, (int, float)) and np.isfinite(dt)
                                   and dt > 0):
            raise bad(owner, "dt", dt, "must be a finite number > 0 (ms) or None")
        self.mean, self.std, self.dt, self.start, self.stop = (
            float(mean), float(std), dt, float(start), stop)
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64).ravel()
        #: the last blocks drawn, by (key, block): consecutive calls share a block (a call of
        #: a few changes would otherwise draw a whole block again)
        self._blocks: dict[tuple, np.ndarray] = {}

    def check(self, size: int, dt: float) -> None:
        owner = f"NoiseCurrent on '{self.target}'"
        self.units(size)
        if self.dt is not None and not is_multiple(self.dt, dt):
            raise bad(owner, "dt", self.dt, f"must be a whole number of steps (dt = {dt} ms)")
        for name in ("start", "stop"):
            v = getattr(self, name)
            if v is not None and not is_multiple(v, dt):
                raise bad(owner, name, v, f"must be a whole number of steps (dt = {dt} ms)")

    def units(self, size: int) -> np.ndarray:
        """The units driven (int32; indices outside the population are refused)."""
        return _units(f"NoiseCurrent on '{self.target}'", self.indices, size)

    def window(self, k0: int, n_steps: int, dt: float, key: tuple, n_units: int):
        """(change steps, amplitude changes (n_changes, n_units)) for steps k0 .. k0 +
        n_steps - 1: the current stimulus's arrays for one call."""
        every = 1 if self.dt is None else int(to_steps(self.dt, dt))
        first = int(to_steps(self.start, dt))
        last = np.iinfo(np.int64).max if self.stop is None else int(to_steps(self.stop, dt))
        lo = max(0, -(-(k0 - first) // every))  # first change number at or after k0
        steps = first + every * np.arange(lo, lo + n_steps // every + 2, dtype=np.int64)
        steps = steps[(steps < k0 + n_steps) & (steps < last)]
        # the change before the window (its current is where the window starts), then its own
        amp = self._amplitudes(np.arange(lo - 1, lo + steps.size), key, n_units)
        if k0 <= last < k0 + n_steps:  # ``stop`` switches the current off, on the grid or not
            steps = np.append(steps, last)
            amp = np.vstack([amp, np.zeros((1, n_units))])
        return steps, np.ascontiguousarray(np.diff(amp, axis=0))

    def _amplitudes(self, m: np.ndarray, key: tuple, n_units: int) -> np.ndarray:
        """The current of the consecutive changes ``m`` (0 for m < 0), one row each."""
        size = max(1, (1 << 20) // n_units)  # changes per block of draws
        out = np.zeros((m.size, n_units))
        r = int(np.searchsorted(m, 0))  # rows before are m < 0: no current yet
        while r < m.size:
            b, first = divmod(int(m[r]), size)
            z = self._block((*key, b), size, n_units)
            take = min(size - first, m.size - r)
            out[r:r + take] = z[first:first + take]
            r += take
        out[m >= 0] *= self.std
        out[m >= 0] += self.mean
        return out

    def _block(self, key: tuple, size: int, n_units: int) -> np.ndarray:
        """Standard normal draws of block ``key`` (the last two blocks are kept)."""
        z = self._blocks.get(key)
        if z is None or z.shape != (size, n_units):
            z = np.random.default_rng(key).standard_normal((size, n_units))
            self._blocks = {k: v for k, v in self._blocks.items() if k[:-1] == key[:-1]
                            and k[-1] == key[-1] - 1}
            self._blocks[key] = z
        return z
