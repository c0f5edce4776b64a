"""PoissonInput: chunking-independent, seeded, Bernoulli(p = rate * dt) per unit and step.

Two drawing paths are exercised: one firing probability for all units (``_block_same``) and
per-unit probabilities (``_block_each``, e.g. a rate array or a unit of rate 0). The statistical
checks use fixed seeds and bounds of ~4-5 standard errors, so they are deterministic.
"""

import numpy as np
import pytest
from numba import njit

import neurosim as ns
from neurosim.stimuli import PoissonInput, _next, _seed

DT = 0.1
KEY = (11, 2, 0)
B = PoissonInput.BLOCK
# uniform rate (one p), per-unit rates with zeros, per-unit rates all different
RATES = {
    "uniform": 40.0,
    "with_zeros": np.tile([0.0, 40.0, 0.0, 400.0, 4.0], 20),
    "all_different": np.linspace(1.0, 300.0, 100),
}


def _draw(pop, n_steps, chunk, key=KEY, k0=0):
    """(steps, units) of steps k0 .. k0 + n_steps - 1, drawn in calls of ``chunk`` steps."""
    steps, units = [], []
    for a in range(k0, k0 + n_steps, chunk):
        n = min(chunk, k0 + n_steps - a)
        ptr, idx = pop.events(a, n, DT, key)
        assert ptr.dtype == np.int64 and idx.dtype == np.int32
        assert ptr.shape == (n + 1,) and ptr[0] == 0 and ptr[-1] == idx.size
        assert np.all(np.diff(ptr) >= 0)
        steps.append(a + np.repeat(np.arange(n), np.diff(ptr)))
        units.append(idx)
    return np.concatenate(steps), np.concatenate(units).astype(np.int64)


def _raster(steps, units, n_units, n_steps):
    r = np.zeros((n_units, n_steps), bool)
    r[units, steps] = True
    return r


@pytest.mark.parametrize("which", list(RATES))
def test_events_do_not_depend_on_chunking(which):
    n_steps = 10 * B + 37
    ref = _draw(PoissonInput("p", 100, RATES[which]), n_steps, n_steps)
    assert ref[0].size > 1000
    for chunk in (1, 7, 1000, 5000):
        got = _draw(PoissonInput("p", 100, RATES[which]), n_steps, chunk)
        assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1]), chunk
    # a stretch drawn alone, from a fresh source, equals the same stretch of the whole run
    k0, n = 3 * B - 5, 2 * B + 11
    got = _draw(PoissonInput("p", 100, RATES[which]), n, 333, k0=k0)
    sel = (ref[0] >= k0) & (ref[0] < k0 + n)
    assert np.array_equal(got[0], ref[0][sel]) and np.array_equal(got[1], ref[1][sel])
    # within a step: each unit at most once, in ascending order
    key = ref[0] * 1000 + ref[1]
    assert np.all(np.diff(key) > 0)


def test_engine_spikes_do_not_depend_on_run_chunks():
    def run(chunks):
        net = ns.Network(seed=4)
        net.poisson("p", 30, rate=np.linspace(0.0, 200.0, 30))
        net.poisson("q", 20, rate=60.0)
        net.spike_monitor("p")
        net.spike_monitor("q")
        sim = net.compile(dt=DT)
        for duration, chunk in chunks:
            sim.run(duration, chunk=chunk)
        return [sim.spike_steps(x) for x in ("p", "q")]

    ref = run([(300.0, 100.0)])
    assert all(r[0].size > 100 for r in ref)
    for chunks in ([(300.0, 0.1)], [(300.0, 0.7)], [(300.0, 500.0)],
                   [(0.1, 0.1), (102.3, 7.0), (197.6, 50.0)]):
        got = run(chunks)
        for g, r in zip(got, ref, strict=True):
            assert np.array_equal(g[0], r[0]) and np.array_equal(g[1], r[1]), chunks


@pytest.mark.parametrize("rate", [2.0, 40.0, 900.0, 5000.0])
@pytest.mark.parametrize("per_unit", [False, True])
def test_rate_and_geometric_gaps(rate, per_unit):
    """Counts are Binomial(units x steps, p); each unit's gaps between firing steps (also across
    blocks) are geometric: P(gap = 1) = p, mean 1/p, P(gap = g) = (1 - p)**(g - 1) p."""
    n_units, p = 200, rate * DT * 1e-3
    horizon = int(np.ceil(20 / p))  # P(gap > horizon) < 2e-9
    n_steps = B * max(8, -(-2 * horizon // B))
    rates = np.full(n_units, rate)
    if per_unit:  # same p for the units checked, but drawn by the per-unit path
        rates = np.concatenate([rates, [0.0, 1.0]])
    steps, units = _draw(PoissonInput("p", rates.size, rates), n_steps, 1000)
    sel = units < n_units
    steps, units = steps[sel], units[sel]
    m = n_units * n_steps * p
    assert abs(steps.size - m) < 5 * np.sqrt(m * (1 - p)), (steps.size, m)
    # the gap after each spike in the first n_steps - horizon steps: all are complete, so
    # (Bernoulli steps being independent) the sample is not biased towards short gaps
    order = np.lexsort((steps, units))
    s, u = steps[order], units[order]
    gaps = np.diff(s)[(u[1:] == u[:-1]) & (s[:-1] < n_steps - horizon)]
    assert gaps.size > 0.4 * m
    g1 = np.mean(gaps == 1)
    assert abs(g1 - p) < 5 * np.sqrt(p * (1 - p) / gaps.size) + 1e-12
    se = np.sqrt(1 - p) / p / np.sqrt(gaps.size)  # s.d. of a geometric gap: sqrt(1 - p) / p
    assert abs(gaps.mean() - 1 / p) < 5 * se + 1e-12
    for g in (2, 3, 5):
        q = (1 - p) ** (g - 1) * p
        if q * gaps.size > 50:
            assert abs(np.mean(gaps == g) - q) < 5 * np.sqrt(q * (1 - q) / gaps.size)
    # no edge effect at block boundaries: the first and last steps of blocks fire at rate p
    for pos in (0, B - 1):
        c = np.sum(steps % B == pos)
        m = n_units * (n_steps // B) * p
        assert abs(c - m) < 5 * np.sqrt(m) + 1


def test_per_unit_rates_and_p_one():
    rates = np.repeat([0.0, 3.0, 30.0, 300.0, 3000.0, 10000.0], 50)  # p = 1 at 10 kHz
    n_steps = 12 * B
    steps, units = _draw(PoissonInput("p", rates.size, rates), n_steps, 1000)
    counts = np.bincount(units, minlength=rates.size).reshape(6, 50).sum(axis=1)
    p = np.array([0.0, 3.0, 30.0, 300.0, 3000.0, 10000.0]) * DT * 1e-3
    m = 50 * n_steps * p
    assert counts[0] == 0 and counts[-1] == 50 * n_steps  # rate 0 never, p = 1 every step
    assert np.all(np.abs(counts - m) <= 5 * np.sqrt(m * (1 - p)) + 1e-9), (counts, m)
    # p = 1 for all units: the uniform path fires every unit in every step
    ptr, idx = PoissonInput("p", 7, 10000.0).events(5, 20, DT, KEY)
    assert np.array_equal(ptr, 7 * np.arange(21)) and np.array_equal(idx, np.tile(np.arange(7), 20))
    ptr, idx = PoissonInput("p", 7, 0.0).events(5, 20, DT, KEY)
    assert np.array_equal(ptr, np.zeros(21)) and idx.size == 0


@pytest.mark.parametrize("rate", [400.0, np.tile([400.0, 0.0, 200.0, 800.0], 25)],
                         ids=["uniform", "per_unit"])
def test_units_and_steps_are_independent(rate):
    """Per step, counts are Binomial(n, p) (variance check); unit pairs are uncorrelated,
    neighbours (also across the end of a step's row) included. (Rates high enough for the
    correlations to be near normal, with standard error 1 / sqrt(steps).)"""
    n_units, n_steps = 100, 20 * B
    pop = PoissonInput("p", n_units, rate)
    r = _raster(*_draw(pop, n_steps, 1000), n_units, n_steps)
    active = r.any(axis=1)
    x = r[active].astype(float)
    c = np.corrcoef(x)
    off = c[~np.eye(c.shape[0], dtype=bool)]
    assert np.abs(off).max() < 5 / np.sqrt(n_steps)
    assert abs(off.mean()) < 5 / np.sqrt(n_steps * off.size / 2)
    # unit n-1 in step k vs unit 0 in step k + 1; each unit vs itself one step later
    assert abs(np.corrcoef(x[-1, :-1], x[0, 1:])[0, 1]) < 5 / np.sqrt(n_steps)
    lag1 = [np.corrcoef(row[:-1], row[1:])[0, 1] for row in x]
    assert abs(np.mean(lag1)) < 5 / np.sqrt(n_steps * len(lag1))
    if np.ndim(rate) == 0:
        p = rate * DT * 1e-3
        per_step = r.sum(axis=0)
        var = n_units * p * (1 - p)
        assert abs(per_step.var(ddof=1) - var) < 5 * var * np.sqrt(2 / n_steps)


@pytest.mark.parametrize("which", list(RATES))
def test_seed_and_source_key_select_the_stream(which):
    def draw(key):
        return _draw(PoissonInput("p", 100, RATES[which]), 3 * B, 1000, key=key)

    a, b = draw((5, 2, 0)), draw((5, 2, 0))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    for other in ((6, 2, 0), (5, 2, 1)):  # another seed; another source of the same network
        c = draw(other)
        assert not (a[0].size == c[0].size and np.array_equal(a[1], c[1]))
    # the blocks of one stream are not copies of each other
    first = a[1][a[0] < B]
    second = a[1][(a[0] >= B) & (a[0] < 2 * B)]
    assert not (first.size == second.size and np.array_equal(first, second))


def test_set_rate_redraws_deterministically():
    pop = PoissonInput("p", 50, 20.0)
    before = _draw(pop, 2 * B, 1000)
    pop.set_rate(np.linspace(0.0, 400.0, 50))
    after = _draw(pop, 2 * B, 1000)
    fresh = _draw(PoissonInput("p", 50, np.linspace(0.0, 400.0, 50)), 2 * B, 1000)
    assert np.array_equal(after[0], fresh[0]) and np.array_equal(after[1], fresh[1])
    assert after[0].size > 2 * before[0].size and not np.any(after[1] == 0)
    pop.set_rate(20.0)
    again = _draw(pop, 2 * B, 1000)
    assert np.array_equal(again[0], before[0]) and np.array_equal(again[1], before[1])


@njit
def _uniforms(base, b, n):
    s0, s1, s2, s3 = _seed(base, b)
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1, s2, s3 = _next(s0, s1, s2, s3)
    return out


@njit
def _xoshiro_1234(n):
    s0, s1, s2, s3 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    out = np.empty(n)
    for i in range(n):
        out[i], s0, s1, s2, s3 = _next(s0, s1, s2, s3)
    return out


def test_generators_match_the_published_vectors():
    """xoshiro256++ from state (1, 2, 3, 4) and SplitMix64 seeded with 1234567 (reference
    outputs of xoshiro256plusplus.c and splitmix64.c): the streams are exactly those generators,
    with no silent float conversion of the 64-bit arithmetic."""
    ref = [41943041, 58720359, 3588806011781223, 3591011842654386, 9228616714210784205,
           9973669472204895162, 14011001112246962877, 12406186145184390807,
           15849039046786891736, 10450023813501588000]
    to_u = np.array([((r >> 11) + 1) * 2.0 ** -53 for r in ref])  # U in (0, 1]
    assert np.array_equal(_xoshiro_1234(10), to_u)
    # block b's state word j = SplitMix64 output b + 1 of the stream seeded with base[j]
    sm = [6457827717110365317, 3203168211198807973, 9817491932198370423]
    base = np.full(4, 1234567, np.uint64)
    for b in range(3):
        assert _seed(base, b) == (sm[b],) * 4
    u = _uniforms(np.array([1, 2, 3, 4], np.uint64), 7, 100_000)
    assert u.min() > 0 and u.max() <= 1 and abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
