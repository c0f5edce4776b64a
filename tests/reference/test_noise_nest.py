"""neurosim's noise current against NEST's ``noise_generator`` (statistics: the draws differ).

200 ``iaf_psc_delta`` neurons without threshold in reach, each driven by its own Gaussian
current (mean 100 pA, std 300 pA) redrawn every ``dt_noise``; V_m's stationary mean and
variance over 3 s, in both simulators, against the closed form of the AR(1) process they
both integrate (see tests/models/test_noise_current.py).
"""

from __future__ import annotations

import math

import numpy as np
import peer_nets as pn
import pytest

import neurosim as ns

pn.prepare_nest_import()
pytest.importorskip("nest")

N, T, DT, MU, SIGMA = 200, 3000.0, 0.1, 100.0, 300.0
P = dict(tau_m=10.0, C_m=250.0, E_L=-70.0, V_th=1e6, t_ref=0.1)


def _nest_v(dt_noise):
    nest = pn.import_nest()
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False, rng_seed=5)
    neurons = nest.Create("iaf_psc_delta", N, params=P)
    noise = nest.Create("noise_generator", params=dict(mean=MU, std=SIGMA, dt=dt_noise))
    nest.Connect(noise, neurons, syn_spec={"delay": DT})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": dt_noise})
    nest.Connect(mm, neurons)
    nest.Simulate(T)
    e = mm.get("events")
    v = np.zeros((int(round(T / dt_noise)), N))
    v[np.rint(e["times"] / dt_noise).astype(int) - 1, e["senders"] - neurons[0].global_id] = \
        e["V_m"]
    return v


def _neurosim_v(dt_noise):
    net = ns.Network(seed=5)
    net.population("n", "iaf_psc_delta", N, **P)
    net.noise_current("n", mean=MU, std=SIGMA, dt=dt_noise)
    every = int(round(dt_noise / DT))
    net.state_monitor("n", "V_m", every=every)
    return net.compile(DT).run(T).state("n", "V_m")[1]


@pytest.mark.parametrize("dt_noise", [0.1, 0.5])
def test_noise_statistics_match_nest_and_the_closed_form(dt_noise):
    q = math.exp(-dt_noise / P["tau_m"])
    c = P["tau_m"] / P["C_m"] * (1 - q)
    mean = P["E_L"] + MU * P["tau_m"] / P["C_m"]
    var = SIGMA**2 * c**2 / (1 - q**2)
    skip = int(round(200.0 / dt_noise))  # the first 200 ms: V leaves rest
    for v in (_nest_v(dt_noise)[skip:-1], _neurosim_v(dt_noise)[skip:]):
        assert abs(v.mean() - mean) < 0.02 * math.sqrt(var)
        assert v.var() == pytest.approx(var, rel=0.04)
