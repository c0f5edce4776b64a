"""Reward-modulated STDP (``rstdp``) against a slow replay of its equations.

The engine's weights after a schedule of modulator values must equal, bit for bit, a plain
Python loop over each synapse's events that integrates ``dw/dt = M c`` exactly between them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurosim as ns

DT = 0.1
PARAMS = dict(tau_c=200.0, A_plus=1.0, A_minus=1.1, w_min=0.0, w_max=60.0)
SCHEDULE = [(0.0, 400.0), (0.05, 600.0), (-0.02, 300.0), (0.1, 700.0)]  # (M 1/ms, ms)


class Trace:
    def __init__(self, tau):
        self.rate, self.value, self.last = DT / tau, 0.0, 0

    def at(self, t):
        return self.value * math.exp(-(t - self.last) * self.rate)

    def jump(self, t):
        self.value = self.at(t) + 1.0
        self.last = t


def replay(w, pre, post, p, changes, t_end):
    """One synapse: spikes (pre before post at equal stamps), then modulator changes (which
    come after the spikes of their stamp), integrated exactly between events."""
    x, y = Trace(p["tau_plus"]), Trace(p["tau_minus"])
    c, last, m = 0.0, 0.0, changes[0][1]
    ev = sorted([(int(t), 0, 0.0) for t in pre] + [(int(t), 1, 0.0) for t in post]
                + [(t, 2, v) for t, v in changes[1:]] + [(t_end, 2, m)])
    for t, kind, value in ev:
        d = t - last
        if d > 0.0:
            gone = -math.expm1(-d * (DT / p["tau_c"]))
            w = min(max(w + m * c * p["tau_c"] * gone, p["w_min"]), p["w_max"])
            c = c - c * gone
            last = t
        if kind == 0:
            c -= p["A_minus"] * y.at(t)
            x.jump(t)
        elif kind == 1:
            c += p["A_plus"] * x.at(t)
            y.jump(t)
        else:
            m = value
    return w


def build(seed=2, threads=1):
    net = ns.Network(seed=seed)
    net.poisson("inp", 40, 15.0)
    net.population("out", "iaf_psc_exp", 30, I_e=376.0)
    net.connect("inp", "out", ns.fixed_prob(0.5), weight=ns.Uniform(10.0, 50.0),
                delay=ns.Uniform(0.1, 2.0), plasticity=ns.Plasticity("rstdp", **PARAMS),
                name="ff")
    net.spike_monitor("inp")
    net.spike_monitor("out")
    return net.compile(dt=DT, threads=threads)


def run_schedule(sim):
    changes = []
    for m, duration in SCHEDULE:
        sim.set_modulator("ff", m)
        changes.append((sim.k, m))
        sim.run(duration, chunk=45.0)
    return changes


def test_weights_equal_exact_replay():
    sim = build()
    w0 = sim.weights("ff")
    changes = run_schedule(sim)
    p = ns.Plasticity("rstdp", **PARAMS).params
    k_in, i_in = sim.spike_steps("inp")
    k_out, i_out = sim.spike_steps("out")
    src, tgt = sim.synapses("ff")
    want = np.array([replay(w0[s], k_in[i_in == src[s]], k_out[i_out == tgt[s]], p, changes,
                            sim.k) for s in range(src.size)])
    got = sim.weights("ff")
    assert np.abs(got - w0).max() > 1.0
    np.testing.assert_array_equal(got, want)
    # reading the weights changed nothing: a second read is the same
    np.testing.assert_array_equal(sim.weights("ff"), got)


@pytest.mark.usefixtures("force_split")
def test_threads_give_the_same_weights():
    a, b = build(), build(threads=2)
    run_schedule(a)
    run_schedule(b)
    assert b.structure.parallel
    np.testing.assert_array_equal(a.weights("ff"), b.weights("ff"))


def test_no_modulator_no_learning():
    sim = build()
    w0 = sim.weights("ff")
    sim.run(500.0)
    np.testing.assert_array_equal(sim.weights("ff"), w0)


def test_modulator_errors():
    sim = build()
    with pytest.raises(ns.ConfigError, match="modulator"):
        sim.set_modulator("ff", float("nan"))
    net = ns.Network(seed=1)
    net.poisson("inp", 5, 10.0)
    net.population("out", "iaf_psc_exp", 2)
    net.connect("inp", "out", ns.all_to_all(), 1.0, plasticity=ns.Plasticity("stdp"), name="p")
    with pytest.raises(ns.ConfigError, match="has no modulator"):
        net.compile().set_modulator("p", 1.0)
    with pytest.raises(ns.ConfigError, match="w_min"):
        ns.Network().connect("a", "b", ns.all_to_all(), 1.0,
                             plasticity=ns.Plasticity("rstdp", w_min=2.0, w_max=1.0))
