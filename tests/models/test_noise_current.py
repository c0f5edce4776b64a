"""Gaussian noise currents (``Network.noise_current``, NEST's ``noise_generator``).

On ``iaf_psc_delta`` (no threshold in reach) a noise current redrawn every step makes V an
AR(1) process, V_{k+1} - E = (V_k - E) P33 + I_k P30, whose stationary mean and variance are
known in closed form; redrawn every m steps, V sampled at the redraw times is an AR(1)
process with P33^m and the summed drive. The draws are fixed by the seed alone: the same
numbers for any split of the run and any number of threads.
"""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim.errors import ConfigError

TAU, C, E_L = 10.0, 250.0, -70.0


def _net(n=200, seed=1, **noise):
    net = ns.Network(seed=seed)
    net.population("n", "iaf_psc_delta", n, V_th=1e6, t_ref=0.0, tau_m=TAU, C_m=C, E_L=E_L)
    net.noise_current("n", **noise)
    net.state_monitor("n", "V_m")
    return net


@pytest.mark.parametrize("every", [1, 5])
def test_stationary_mean_and_variance_are_the_ar1_ones(every):
    dt, mu, sigma = 0.1, 100.0, 300.0
    sim = _net(mean=mu, std=sigma, dt=every * dt).compile(dt)
    sim.run(3000.0)
    _, v = sim.state("n", "V_m")
    v = v[every - 1::every][2000 // every:]  # after whole redraw intervals, past the start
    q = math.exp(-every * dt / TAU)  # m steps of decay; drive over them (tau/C)(1 - q)
    c = TAU / C * (1 - q)
    mean, var = E_L + mu * TAU / C, sigma**2 * c**2 / (1 - q**2)
    assert abs(v.mean() - mean) < 0.02 * math.sqrt(var)
    assert v.var() == pytest.approx(var, rel=0.04)
    corr = np.corrcoef(v[:, :20].T)[np.triu_indices(20, 1)]  # units draw independently
    assert np.abs(corr).mean() < 0.05


def test_same_numbers_for_any_split_and_seed_dependence():
    def trace(pieces, seed=1, chunk=100.0):
        sim = _net(n=30, seed=seed, mean=50.0, std=200.0, dt=0.3).compile(0.1)
        for p in pieces:
            sim.run(p, chunk=chunk)
        return sim.state("n", "V_m")[1]

    a = trace([100.0])
    np.testing.assert_array_equal(a, trace([37.0, 0.1, 62.9], chunk=7.3))
    assert not np.array_equal(a, trace([100.0], seed=2))


def test_small_calls_give_the_same_numbers(monkeypatch):
    import neurosim.simulation as simulation

    a = _net(n=30, mean=50.0, std=200.0).compile(0.1).run(50.0).state("n", "V_m")[1]
    monkeypatch.setattr(simulation, "NOISE_VALUES", 100)  # 3 steps per call
    b = _net(n=30, mean=50.0, std=200.0).compile(0.1).run(50.0).state("n", "V_m")[1]
    np.testing.assert_array_equal(a, b)


def test_two_threads_draw_what_one_draws(force_split):
    net = _net(n=64, mean=50.0, std=200.0)
    a, b = net.compile(0.1, threads=1), net.compile(0.1, threads=2)
    assert b.structure.parallel
    a.run(50.0)
    b.run(50.0)
    np.testing.assert_array_equal(a.state("n", "V_m")[1], b.state("n", "V_m")[1])


@pytest.mark.parametrize("dt_noise,stop", [(None, 30.0), (0.5, 30.0), (0.7, 30.0)])
def test_zero_std_is_a_step_current_and_start_stop_switch_it(dt_noise, stop):
    """std = 0: the step current (mean from start to stop), whether or not stop lies on the
    redraw grid (0.7 ms from 5 ms: it does not)."""
    noisy = _net(n=3, mean=120.0, std=0.0, start=5.0, stop=stop, dt=dt_noise)
    noisy = noisy.compile(0.1).run(60.0, chunk=3.3)
    net = ns.Network(seed=1)
    net.population("n", "iaf_psc_delta", 3, V_th=1e6, t_ref=0.0, tau_m=TAU, C_m=C, E_L=E_L)
    net.current("n", [5.0, stop], [120.0, 0.0])
    net.state_monitor("n", "V_m")
    step = net.compile(0.1).run(60.0)
    t, v = noisy.state("n", "V_m")
    np.testing.assert_array_equal(v, step.state("n", "V_m")[1])
    assert np.all(v[t <= 5.0] == E_L) and v[t == 30.0].min() > E_L + 1.0
    late = t >= 30.0  # after stop: V relaxes to rest
    want = E_L + (v[t == 30.0] - E_L) * np.exp(-(t[late, None] - 30.0) / TAU)
    np.testing.assert_allclose(v[late], want, rtol=0, atol=1e-9)


def test_indices_pick_the_units():
    sim = _net(n=4, mean=0.0, std=500.0, indices=[1, 3]).compile(0.1).run(20.0)
    _, v = sim.state("n", "V_m")
    assert np.all(v[:, [0, 2]] == E_L) and np.all(v[-1, [1, 3]] != E_L)


@pytest.mark.parametrize("kw,param", [
    (dict(std=-1.0), "std"), (dict(mean=np.nan), "mean"), (dict(dt=0.25), "dt"),
    (dict(start=-1.0), "start"), (dict(start=5.0, stop=5.0), "stop"),
    (dict(indices=[7]), "indices"), (dict(start=0.05), "start")])
def test_bad_noise_is_refused(kw, param):
    with pytest.raises(ConfigError, match=f"NoiseCurrent on 'n': parameter '{param}'"):
        _net(n=4, **kw).compile(0.1)


def test_noise_on_a_source_is_refused():
    net = ns.Network(seed=0)
    net.poisson("p", 3, 10.0)
    net.noise_current("p", std=1.0)
    with pytest.raises(ConfigError, match="'target' = 'p' is not a neuron population"):
        net.compile(0.1)
