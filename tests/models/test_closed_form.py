"""Neuron models against closed-form solutions at dt = 0.01, 0.1 and 1 ms.

Every linear model is integrated exactly, so the recorded traces must equal the analytic
solution at the sample times up to round-off, at every resolution. Spike times of a
DC-driven neuron are checked to the step against the analytic trajectory.
"""

import math

import numpy as np
import pytest

import neurosim as ns

DTS = [0.01, 0.1, 1.0]
TOL = dict(rtol=1e-9, atol=1e-9)
P = dict(C_m=200.0, tau_m=15.0, E_L=-65.0, V_reset=-70.0, V_th=-50.0, t_ref=2.0)


def _net(model, **kw):
    net = ns.Network(seed=0)
    net.population("n", model, 1, **kw)
    for var in ns.get_model(model).state_names:
        net.state_monitor("n", var)
    net.spike_monitor("n")
    return net


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_psc_delta", "alif_psc_exp",
                                   "iaf_psc_alpha"])
def test_dc_step_response(model, dt):
    """V(t) = E_L + I tau_m / C_m (1 - exp(-(t - t0)/tau_m)) after a current step at t0."""
    t0, amp = 20.0, 150.0  # steady state 11.25 mV above rest: stays below threshold
    net = _net(model, **P)
    net.current("n", [t0], [amp])
    sim = net.compile(dt=dt)
    sim.run(100.0)
    t, v = sim.state("n", "V_m")
    expect = np.where(t <= t0, P["E_L"],
                      P["E_L"] + amp * P["tau_m"] / P["C_m"]
                      * (1 - np.exp(-(t - t0) / P["tau_m"])))
    np.testing.assert_allclose(v[:, 0], expect, **TOL)
    assert sim.spikes("n")[0].size == 0


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", ["iaf_psc_exp", "alif_psc_exp"])
@pytest.mark.parametrize("port,tau_s,w", [("exc", 3.0, 400.0), ("inh", 7.0, -300.0)])
def test_psc_exp_single_spike(model, dt, port, tau_s, w):
    """An input spike at T with delay D: I(t) = w e^{-(t-ta)/tau_s}, ta = T + D, and
    V(t) = E_L + w tau_s tau_m / (C_m (tau_m - tau_s)) (e^{-(t-ta)/tau_m} - e^{-(t-ta)/tau_s})."""
    T, D = 10.0, 2.0
    net = _net(model, tau_syn_ex=3.0, tau_syn_in=7.0, **P)
    net.spike_train("src", 1, times=[T], indices=[0])
    net.connect("src", "n", ns.one_to_one(), weight=w, delay=D, port=port)
    sim = net.compile(dt=dt)
    sim.run(80.0)
    ta = T + D
    t, cur = sim.state("n", "I_syn_ex" if port == "exc" else "I_syn_in")
    s = t - ta
    np.testing.assert_allclose(cur[:, 0], np.where(s >= 0, w * np.exp(-s / tau_s), 0.0), **TOL)
    t, v = sim.state("n", "V_m")
    tm = P["tau_m"]
    psp = w * tau_s * tm / (P["C_m"] * (tm - tau_s)) * (np.exp(-s / tm) - np.exp(-s / tau_s))
    np.testing.assert_allclose(v[:, 0], np.where(s >= 0, P["E_L"] + psp, P["E_L"]), **TOL)


@pytest.mark.parametrize("dt", DTS)
def test_psc_exp_equal_time_constants(dt):
    """tau_syn = tau_m: the alpha-shaped limit V = E_L + w t/C_m e^{-t/tau}."""
    T, D, w = 5.0, 1.0, 500.0
    net = _net("iaf_psc_exp", tau_syn_ex=P["tau_m"], **P)
    net.spike_train("src", 1, times=[T], indices=[0])
    net.connect("src", "n", ns.one_to_one(), weight=w, delay=D)
    sim = net.compile(dt=dt)
    sim.run(60.0)
    t, v = sim.state("n", "V_m")
    s = np.maximum(t - (T + D), 0)
    np.testing.assert_allclose(v[:, 0], P["E_L"] + w * s / P["C_m"] * np.exp(-s / P["tau_m"]),
                               **TOL)


def _alpha_integral(a, u):
    """int_0^u s e^{a s} ds, for arrays u >= 0 (a != 0 or a = 0)."""
    if a == 0:
        return u * u / 2
    return (np.exp(a * u) * (a * u - 1) + 1) / (a * a)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("port,tau_s,w", [("exc", 3.0, 400.0), ("inh", 7.0, -300.0),
                                          ("exc", 15.0, 200.0)])  # tau_s = tau_m
def test_psc_alpha_single_spike(dt, port, tau_s, w):
    """An input spike at T with delay D, ta = T + D: I(t) = w (t - ta)/tau_s e^{1 - (t -
    ta)/tau_s} (peak w at ta + tau_s) and V(t) = E_L + w e/(tau_s C_m) e^{-u/tau_m}
    int_0^u s e^{(1/tau_m - 1/tau_s) s} ds, u = t - ta; also at tau_s = tau_m."""
    T, D = 10.0, 2.0
    net = _net("iaf_psc_alpha", tau_syn_ex=tau_s, tau_syn_in=tau_s, **P)
    net.spike_train("src", 1, times=[T], indices=[0])
    net.connect("src", "n", ns.one_to_one(), weight=w, delay=D, port=port)
    sim = net.compile(dt=dt)
    sim.run(80.0)
    u = np.maximum(sim.state("n", "V_m")[0] - (T + D), 0.0)
    _, cur = sim.state("n", "I_syn_ex" if port == "exc" else "I_syn_in")
    np.testing.assert_allclose(cur[:, 0], w * u / tau_s * np.exp(1 - u / tau_s), **TOL)
    assert abs(cur[:, 0]).max() <= abs(w) * (1 + 1e-12)
    _, v = sim.state("n", "V_m")
    tm = P["tau_m"]
    psp = w * math.e / (tau_s * P["C_m"]) * np.exp(-u / tm) * _alpha_integral(
        1 / tm - 1 / tau_s, u)
    np.testing.assert_allclose(v[:, 0], P["E_L"] + psp, **TOL)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("port,w", [("exc", 4.0), ("inh", -3.0)])
def test_psc_delta_single_spike(dt, port, w):
    """A delta input jumps V by w at ta = T + D, then V - E_L decays with tau_m."""
    T, D = 10.0, 3.0
    net = _net("iaf_psc_delta", **P)
    net.spike_train("src", 1, times=[T], indices=[0])
    net.connect("src", "n", ns.one_to_one(), weight=w, delay=D, port=port)
    sim = net.compile(dt=dt)
    sim.run(80.0)
    t, v = sim.state("n", "V_m")
    s = t - (T + D)
    expect = np.where(s >= 0, P["E_L"] + w * np.exp(-s / P["tau_m"]), P["E_L"])
    np.testing.assert_allclose(v[:, 0], expect, **TOL)


def _dc_spike_stamps(dt, amp, n_steps, p):
    """Spike stamps of a DC-driven LIF from the closed form, step by step."""
    r_i = amp * p["tau_m"] / p["C_m"]
    n_ref = round(p["t_ref"] / dt)
    stamps, s, v0 = [], 0, p["E_L"]
    while True:
        # V(stamp s + m) = E_L + (v0 - E_L) e^{-m dt/tau} + R I (1 - e^{-m dt/tau})
        m = np.arange(1, n_steps + 1)
        decay = np.exp(-m * dt / p["tau_m"])
        v = p["E_L"] + (v0 - p["E_L"]) * decay + r_i * (1 - decay)
        hit = np.flatnonzero(v >= p["V_th"])
        if hit.size == 0 or s + hit[0] + 1 > n_steps:
            return np.array(stamps)
        s += hit[0] + 1
        stamps.append(s)
        s += n_ref  # clamped at V_reset for n_ref steps
        v0 = p["V_reset"]


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_psc_delta", "iaf_psc_alpha"])
def test_dc_spike_times_exact(model, dt):
    """Regular firing under DC: every spike in the step the closed form crosses threshold,
    and the neuron held at V_reset for round(t_ref / dt) steps after each spike."""
    amp = 317.0  # suprathreshold (R I = 23.8 mV > 15 mV)
    net = _net(model, I_e=amp, **P)
    sim = net.compile(dt=dt)
    n_steps = round(300.0 / dt)
    sim.run(300.0)
    stamps, _ = sim.spike_steps("n")
    expect = _dc_spike_stamps(dt, amp, n_steps, P)
    assert len(expect) > 5
    np.testing.assert_array_equal(stamps, expect)
    t, v = sim.state("n", "V_m")
    n_ref = round(P["t_ref"] / dt)
    for st in stamps[:-1]:  # V_m at stamps st .. st + n_ref is V_reset
        np.testing.assert_array_equal(v[st - 1: st + n_ref, 0], P["V_reset"])


@pytest.mark.parametrize("dt", DTS)
def test_alif_threshold_adaptation_decays_exactly(dt):
    """After one spike at t_s the threshold offset is a(t) = q_a e^{-(t - t_s)/tau_a}."""
    tau_a, q_a = 80.0, 3.0
    net = _net("alif_psc_exp", tau_a=tau_a, q_a=q_a, V_m=P["V_th"] + 3.0, **P)
    sim = net.compile(dt=dt)
    sim.run(200.0)
    st, _ = sim.spike_steps("n")
    assert list(st) == [1]
    t, a = sim.state("n", "a")
    np.testing.assert_allclose(a[:, 0], q_a * np.exp(-(t - dt) / tau_a), **TOL)


def test_alif_adaptation_lengthens_intervals():
    """Under DC the adaptive threshold makes successive intervals grow (no adaptation: equal)."""
    net = _net("alif_psc_exp", I_e=400.0, tau_a=100.0, q_a=2.0, **P)
    sim = net.compile(dt=0.1)
    sim.run(500.0)
    isi = np.diff(sim.spikes("n")[0])
    assert isi.size > 5 and np.all(np.diff(isi[:5]) > 0)


def _izhikevich_reference(dt, n_steps, a, b, c, d, I, v0, u0, v_th=30.0):
    """Slow obvious loop of NEST's izhikevich update (consistent integration)."""
    v, u, vs, us, spikes = v0, u0, [], [], []
    for k in range(n_steps):
        v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + I)
        u_new = u + dt * a * (b * v - u)
        v, u = v_new, u_new
        if v >= v_th:
            v, u = c, u + d
            spikes.append(k + 1)
        vs.append(v)
        us.append(u)
    return np.array(vs), np.array(us), np.array(spikes)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("abcd", [(0.02, 0.2, -65.0, 8.0), (0.02, 0.2, -50.0, 2.0)],
                         ids=["regular_spiking", "chattering"])
def test_izhikevich_matches_reference_loop(dt, abcd):
    a, b, c, d = abcd
    I = 10.0
    net = _net("izhikevich", a=a, b=b, c=c, d=d, I_e=I)
    sim = net.compile(dt=dt)
    n = round(200.0 / dt)
    sim.run(200.0)
    v_ref, u_ref, sp_ref = _izhikevich_reference(dt, n, a, b, c, d, I, -65.0, -13.0)
    _, v = sim.state("n", "V_m")
    _, u = sim.state("n", "U_m")
    np.testing.assert_allclose(v[:, 0], v_ref, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(u[:, 0], u_ref, rtol=1e-12, atol=1e-10)
    np.testing.assert_array_equal(sim.spike_steps("n")[0], sp_ref)
    assert sp_ref.size >= (1 if dt == 1.0 else 3)


def test_propagator_limit_is_continuous():
    """P21 near tau_syn = tau_m approaches the equal-tau limit (no cancellation blow-up)."""
    from neurosim.models.neurons.lif import propagator_32

    h, c, tm = 0.1, 250.0, 10.0
    lim = propagator_32(tm, tm, c, h)
    for eps in (1e-3, 1e-6, 1e-9, 1e-12):
        assert math.isclose(propagator_32(tm * (1 + eps), tm, c, h), lim, rel_tol=10 * eps + 1e-12)


@pytest.mark.parametrize("dt", [0.1, 1.0])
def test_per_unit_current_steps(dt):
    """A current with one column per unit: each unit follows its own closed-form DC response,
    and a second change applies per unit as well."""
    amps = np.array([[50.0, 100.0, 150.0], [0.0, 120.0, 30.0]])  # pA; rows: t = 10, 60 ms
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 3, **P)
    net.current("n", [10.0, 60.0], amps)
    net.state_monitor("n", "V_m")
    sim = net.compile(dt=dt)
    sim.run(100.0)
    t, v = sim.state("n", "V_m")
    R, tau = P["tau_m"] / P["C_m"], P["tau_m"]
    for u in range(3):
        a0, a1 = amps[:, u]
        v1 = P["E_L"] + a0 * R * (1 - np.exp(-(t - 10.0) / tau))  # after the first change
        v60 = P["E_L"] + a0 * R * (1 - np.exp(-50.0 / tau))
        v2 = P["E_L"] + a1 * R + (v60 - P["E_L"] - a1 * R) * np.exp(-(t - 60.0) / tau)
        expect = np.where(t <= 10.0, P["E_L"], np.where(t <= 60.0, v1, v2))
        np.testing.assert_allclose(v[:, u], expect, **TOL)


def test_per_unit_current_shape_errors():
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 3)
    net.current("n", [0.0], [[1.0, 2.0]])  # 2 columns for 3 units
    with pytest.raises(ns.ConfigError, match="one column per unit"):
        net.compile(dt=0.1)
    with pytest.raises(ns.ConfigError, match="amplitudes"):
        ns.Network().current("n", [0.0, 1.0], [[1.0, 2.0, 3.0]])
