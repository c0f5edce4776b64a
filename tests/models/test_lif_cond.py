"""``lif_cond_exp`` (exponential-Euler conductance LIF) against closed forms and a fine ODE
solution.

The scheme holds the conductances constant over each step and advances V exactly for that
constant conductance, so wherever the conductances *are* constant (no synaptic input) the
traces equal the analytic solution up to round-off at every resolution; the conductances
themselves decay exactly. With a decaying conductance the scheme is first order: V converges
to the solution of the ODE with error proportional to dt.
"""

import math

import numpy as np
import pytest

import neurosim as ns

DTS = [0.01, 0.1, 1.0]
TOL = dict(rtol=1e-9, atol=1e-9)
# tau_m = C_m / g_L = 20 ms; E_in below rest, so inhibitory input hyperpolarises
P = dict(C_m=200.0, g_L=10.0, E_L=-65.0, E_ex=0.0, E_in=-80.0, V_reset=-70.0, V_th=-50.0,
         t_ref=2.0, tau_syn_ex=3.0, tau_syn_in=7.0)
TAU_M = P["C_m"] / P["g_L"]


def _net(**kw):
    net = ns.Network(seed=0)
    net.population("n", "lif_cond_exp", 1, **{**P, **kw})
    for var in ("V_m", "g_ex", "g_in", "refractory"):
        net.state_monitor("n", var)
    net.spike_monitor("n")
    return net


def _input(net, port, w, T, D):
    """One input spike of weight ``w`` (nS) at ``T`` ms through a delay of ``D`` ms."""
    net.spike_train(f"src_{port}", 1, times=[T], indices=[0])
    net.connect(f"src_{port}", "n", ns.one_to_one(), weight=w, delay=D, port=port)


def test_registered_with_nest_defaults():
    spec = ns.get_model("lif_cond_exp")
    assert spec.ports == ("exc", "inh")
    assert spec.state_names == ("V_m", "g_ex", "g_in", "refractory")
    assert spec.defaults() == dict(C_m=250.0, g_L=16.6667, t_ref=2.0, E_L=-70.0, E_ex=0.0,
                                   E_in=-85.0, V_reset=-60.0, V_th=-55.0, I_e=0.0,
                                   tau_syn_ex=0.2, tau_syn_in=2.0)
    assert "lif_cond_exp" in ns.model_names()


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("v0", [-52.0, -78.0])
def test_passive_decay(dt, v0):
    """No input: V(t) = E_L + (V0 - E_L) exp(-t g_L / C_m), conductances stay 0."""
    net = _net(V_m=v0)
    sim = net.compile(dt=dt)
    sim.run(100.0)
    t, v = sim.state("n", "V_m")
    assert t[0] == pytest.approx(dt) and t.size == round(100.0 / dt)
    np.testing.assert_allclose(v[:, 0], P["E_L"] + (v0 - P["E_L"]) * np.exp(-t / TAU_M), **TOL)
    for g in ("g_ex", "g_in"):
        assert not sim.state("n", g)[1].any()
    assert sim.spikes("n")[0].size == 0


@pytest.mark.parametrize("dt", DTS)
def test_dc_step_response(dt):
    """A current step I at t0: V(t) = E_L + I/g_L (1 - exp(-(t - t0) g_L / C_m)) for t > t0
    (I_e adds in the same way)."""
    t0, amp, I_e = 20.0, 90.0, 40.0  # steady state 13 mV above rest: below threshold
    net = _net(I_e=I_e, V_m=P["E_L"] + I_e / P["g_L"])  # start at the I_e steady state
    net.current("n", [t0], [amp])
    sim = net.compile(dt=dt)
    sim.run(150.0)
    t, v = sim.state("n", "V_m")
    v_e = P["E_L"] + I_e / P["g_L"]
    expect = np.where(t <= t0, v_e, v_e + amp / P["g_L"] * (1 - np.exp(-(t - t0) / TAU_M)))
    np.testing.assert_allclose(v[:, 0], expect, **TOL)
    assert sim.spikes("n")[0].size == 0


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("port,w", [("exc", 6.0), ("inh", 9.0)])
def test_single_input_conductance_and_arrival_step(dt, port, w):
    """An input spike at T with delay D is consumed in the step ending at ta = T + D: g jumps
    there (the sample at ta is w) and decays exactly, g(t) = w exp(-(t - ta)/tau_syn). V moves
    from the next step on, by one exponential-Euler step with g = w from E_L."""
    T, D = 10.0, 2.0
    ta = T + D
    net = _net()
    _input(net, port, w, T, D)
    sim = net.compile(dt=dt)
    sim.run(60.0)
    g_name, other, tau, E = (("g_ex", "g_in", P["tau_syn_ex"], P["E_ex"]) if port == "exc"
                             else ("g_in", "g_ex", P["tau_syn_in"], P["E_in"]))
    t, g = sim.state("n", g_name)
    s = t - ta
    k_a = round(ta / dt) - 1  # sample index of t = ta
    assert t[k_a] == pytest.approx(ta)
    assert g[k_a - 1, 0] == 0.0 and g[k_a, 0] == w  # the jump is exactly w, at the end of step
    np.testing.assert_allclose(g[:, 0], np.where(s >= -1e-9, w * np.exp(-s / tau), 0.0), **TOL)
    assert not sim.state("n", other)[1].any()
    _, v = sim.state("n", "V_m")
    np.testing.assert_allclose(v[: k_a + 1, 0], P["E_L"], **TOL)  # up to and including ta
    G = P["g_L"] + w
    v_inf = (P["g_L"] * P["E_L"] + w * E) / G
    v1 = v_inf + (P["E_L"] - v_inf) * math.exp(-dt * G / P["C_m"])
    assert v[k_a + 1, 0] == pytest.approx(v1, rel=1e-12)
    assert (v[k_a + 1, 0] > P["E_L"]) == (port == "exc")


def _reference_v(t_end, h, arrivals, p, v0):
    """V(t) of the continuous ODE with g_ex, g_in exact sums of exponentials jumping at the
    arrival times (``arrivals``: (time, port, weight)), by classical RK4 with step h (the
    arrival times are multiples of h, so no step straddles a jump). Returns V at t = n h."""
    n = round(t_end / h)
    times = np.array([a[0] for a in arrivals])
    w_ex = np.array([a[2] if a[1] == "exc" else 0.0 for a in arrivals])
    w_in = np.array([a[2] if a[1] == "inh" else 0.0 for a in arrivals])

    def rhs(t, v, k0):
        # g just after the jumps at the start of the step containing t (t >= k0 h)
        on = times <= k0 * h + 1e-12
        ge = np.sum(w_ex[on] * np.exp(-(t - times[on]) / p["tau_syn_ex"]))
        gi = np.sum(w_in[on] * np.exp(-(t - times[on]) / p["tau_syn_in"]))
        return (-p["g_L"] * (v - p["E_L"]) - ge * (v - p["E_ex"]) - gi * (v - p["E_in"])
                + p.get("I_e", 0.0)) / p["C_m"]

    out = np.empty(n + 1)
    v = out[0] = v0
    for k in range(n):
        t = k * h
        k1 = rhs(t, v, k)
        k2 = rhs(t + h / 2, v + h / 2 * k1, k)
        k3 = rhs(t + h / 2, v + h / 2 * k2, k)
        k4 = rhs(t + h, v + h * k3, k)
        v = out[k + 1] = v + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return out


ARRIVALS = [(2.0, "exc", 8.0), (5.0, "exc", 12.0), (9.0, "inh", 15.0), (12.0, "exc", 10.0)]


@pytest.fixture(scope="module")
def reference():
    """RK4 at h = 1e-3 ms on [0, 20] ms (and a check that h = 2e-3 ms agrees to 1e-10 mV)."""
    fine = _reference_v(20.0, 1e-3, ARRIVALS, P, P["E_L"])
    coarse = _reference_v(20.0, 2e-3, ARRIVALS, P, P["E_L"])
    assert np.max(np.abs(fine[::2] - coarse)) < 1e-10
    return fine


def _neurosim_v(dt):
    net = _net()
    for j, (ta, port, w) in enumerate(ARRIVALS):
        name = f"src{j}"
        net.spike_train(name, 1, times=[ta - 1.0], indices=[0])
        net.connect(name, "n", ns.one_to_one(), weight=w, delay=1.0, port=port)
    sim = net.compile(dt=dt)
    sim.run(20.0)
    t, v = sim.state("n", "V_m")
    assert sim.spikes("n")[0].size == 0
    return t, v[:, 0]


def test_converges_to_ode_solution_first_order(reference):
    """With decaying conductances V converges to the ODE's solution, error ~ dt: at
    dt = 0.01 ms within 0.025 mV of an RK4 reference, and shrinking by ~10x per 10x in dt.

    The leading error: each input's conductance integral is over-counted by about w dt / 2
    (g is held at its start-of-step value), so V is off by about w dt |E - V| / (2 C_m):
    0.018 mV for the 12 nS input at dt = 0.01 ms (measured maximum: 0.0176 mV; 0.176 mV at
    dt = 0.1 ms)."""
    err = {}
    for dt in (0.1, 0.01):
        t, v = _neurosim_v(dt)
        ref = reference[np.rint(t / 1e-3).astype(np.int64)]
        err[dt] = np.max(np.abs(v - ref))
    assert err[0.01] < 0.025, err
    assert 7.0 < err[0.1] / err[0.01] < 13.0, err  # first order
    assert err[0.1] > 1e-3  # the test sees the scheme's error, not round-off


@pytest.mark.parametrize("dt", DTS)
def test_refractory_hold_and_reset(dt):
    """A neuron started far above threshold fires in step 0 (stamp 1), is clamped at V_reset
    for round(t_ref / dt) steps and then relaxes exactly: V = E_L + (V_reset - E_L)
    exp(-(t - t_free)/tau_m) with t_free = (1 + n_ref) dt."""
    net = _net(V_m=-20.0)
    sim = net.compile(dt=dt)
    sim.run(50.0)
    stamps, _ = sim.spike_steps("n")
    assert list(stamps) == [1]
    n_ref = round(P["t_ref"] / dt)
    t, v = sim.state("n", "V_m")
    _, r = sim.state("n", "refractory")
    np.testing.assert_array_equal(v[: 1 + n_ref, 0], P["V_reset"])  # stamps 1 .. 1 + n_ref
    np.testing.assert_array_equal(r[: 1 + n_ref, 0], np.arange(n_ref, -1, -1))
    assert not r[1 + n_ref:].any()
    t_free = (1 + n_ref) * dt
    expect = P["E_L"] + (P["V_reset"] - P["E_L"]) * np.exp(-(t - t_free) / TAU_M)
    np.testing.assert_allclose(v[n_ref:, 0], expect[n_ref:], **TOL)


@pytest.mark.parametrize("dt", DTS)
def test_conductance_runs_on_while_refractory(dt):
    """Input arriving while the neuron is refractory makes g jump and decay as usual; V stays
    clamped and first moves, with that conductance, in the first free step."""
    w, ta = 20.0, 2.0  # arrives 1 ms after the spike at t = dt; t_ref = 2 ms
    net = _net(V_m=-20.0)
    _input(net, "exc", w, ta - 1.0, 1.0)
    sim = net.compile(dt=dt)
    sim.run(30.0)
    assert list(sim.spike_steps("n")[0]) == [1]
    n_ref = round(P["t_ref"] / dt)
    t, g = sim.state("n", "g_ex")
    s = t - ta
    np.testing.assert_allclose(g[:, 0], np.where(s >= -1e-9, w * np.exp(-s / P["tau_syn_ex"]),
                                                 0.0), **TOL)
    _, v = sim.state("n", "V_m")
    np.testing.assert_array_equal(v[: 1 + n_ref, 0], P["V_reset"])
    g0 = g[n_ref, 0]  # conductance at the start of the first free step
    G = P["g_L"] + g0
    v_inf = (P["g_L"] * P["E_L"] + g0 * P["E_ex"]) / G
    v1 = v_inf + (P["V_reset"] - v_inf) * math.exp(-dt * G / P["C_m"])
    assert v[1 + n_ref, 0] == pytest.approx(v1, rel=1e-12)


@pytest.mark.parametrize("dt", DTS)
def test_dc_spike_times_exact(dt):
    """Regular firing under DC (constant conductance: exact): every spike in the step in which
    the closed form crosses threshold, V clamped at V_reset for round(t_ref/dt) steps."""
    amp = 230.0  # E_L + I/g_L = -42 mV > V_th
    net = _net(I_e=amp)
    sim = net.compile(dt=dt)
    n_steps = round(300.0 / dt)
    sim.run(300.0)
    stamps, _ = sim.spike_steps("n")
    v_inf, n_ref = P["E_L"] + amp / P["g_L"], round(P["t_ref"] / dt)
    expect, s, v0 = [], 0, P["E_L"]
    m = np.arange(1, n_steps + 1)
    decay = np.exp(-m * dt / TAU_M)
    while True:
        hit = np.flatnonzero(v_inf + (v0 - v_inf) * decay >= P["V_th"])
        if hit.size == 0 or s + hit[0] + 1 > n_steps:
            break
        s += hit[0] + 1
        expect.append(s)
        s += n_ref
        v0 = P["V_reset"]
    assert len(expect) > 5
    np.testing.assert_array_equal(stamps, expect)
    _, v = sim.state("n", "V_m")
    for st in stamps[:-1]:
        np.testing.assert_array_equal(v[st - 1: st + n_ref, 0], P["V_reset"])


@pytest.mark.parametrize("param,value", [("C_m", -250.0), ("C_m", 0.0), ("g_L", 0.0),
                                         ("tau_syn_ex", -1.0), ("tau_syn_in", 0.0),
                                         ("t_ref", -2.0), ("E_ex", math.nan)])
def test_bad_parameter_is_named(param, value):
    with pytest.raises(ns.ConfigError, match=f"'{param}'"):
        ns.Network().population("n", "lif_cond_exp", 1, **{param: value})
