"""``lif_cond_exp`` against Brian2's exponential Euler: identical spikes, V to round-off.

One neuron driven by explicit spike trains on both ports (``exc``: reversal E_ex, ``inh``:
reversal E_in) with heterogeneous weights (nS) and delays (1 to 20 steps), strong enough to
fire 10 to 30 times in 500 ms. Brian2 integrates

    dv/dt = (g_L (E_L - v) + g_ex (E_ex - v) + g_in (E_in - v) + I_e) / C_m  (unless refractory)
    dg_ex/dt = -g_ex / tau_ex,    dg_in/dt = -g_in / tau_in

with ``method="exponential_euler"``: every variable advanced by the exact solution of its own
equation with the others held at their start-of-step values, which is neurosim's step. The
discrete-time mapping is the one of ``peer_nets.run_brian2`` (see ``test_peers.py``):

* a spike found in Brian2's step starting at ``t = k dt`` has NEST stamp ``k + 1``; an input
  with stamp ``T`` goes to the ``SpikeGeneratorGroup`` at ``(T - 1) dt``; same delays;
* ``g_ex_post += w`` in the default ``synapses`` slot (after the state update and threshold of
  the arrival step), so the input moves V from the next step, as in neurosim;
* ``refractory = t_ref + dt`` (neurosim clamps V for round(t_ref/dt) steps after the spike
  step, Brian2 for timestep(refractory) - 1); threshold ``v >= V_th``; numpy target.

V is recorded after every step (Brian2: ``when="end"``, after the reset) and must agree to
1e-9 relative; Brian2 computes in SI units (V, S, F) with its own (sympy) arrangement of the
same formula, so the two differ by round-off only.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim as ns

b2 = pytest.importorskip("brian2")

T_RUN = 500.0  # ms
#: (dt, params, (n exc sources, weight range nS), (n inh sources, weight range nS))
CASES = {
    "slow_syn_dt0.1": (0.1, dict(C_m=200.0, g_L=10.0, E_L=-70.0, E_ex=0.0, E_in=-80.0,
                                 V_reset=-60.0, V_th=-54.0, t_ref=2.0, tau_syn_ex=5.0,
                                 tau_syn_in=10.0, I_e=0.0),
                       (40, (0.4, 2.4)), (10, (1.0, 5.0))),
    # NEST's iaf_cond_exp defaults (tau_syn_ex = 0.2 ms: one input lasts a few steps), I_e on
    "nest_defaults_dt0.05": (0.05, dict(C_m=250.0, g_L=16.6667, E_L=-70.0, E_ex=0.0,
                                        E_in=-85.0, V_reset=-60.0, V_th=-55.0, t_ref=2.0,
                                        tau_syn_ex=0.2, tau_syn_in=2.0, I_e=200.0),
                             (40, (5.0, 20.0)), (10, (2.0, 8.0))),
}


def _inputs(dt, exc, inh, seed=3):
    """Spike trains at 20 Hz per source on the grid: per port (stamps, source, weights,
    delays in steps)."""
    rng = np.random.default_rng(seed)
    n_steps = round(T_RUN / dt)
    out = {}
    for port, (n_src, w_range) in (("exc", exc), ("inh", inh)):
        stamps, idx = [], []
        for u in range(n_src):
            k = rng.choice(np.arange(1, n_steps - 5), size=rng.poisson(20.0 * T_RUN / 1e3),
                           replace=False)
            stamps.append(np.sort(k))
            idx.append(np.full(k.size, u))
        out[port] = (np.concatenate(stamps), np.concatenate(idx),
                     rng.uniform(*w_range, n_src), rng.integers(1, 21, n_src))
    return out


def _run_neurosim(dt, p, inputs):
    net = ns.Network(seed=0)
    net.population("n", "lif_cond_exp", 1, **p)
    for port, (stamps, idx, w, d) in inputs.items():
        net.spike_train(f"src_{port}", w.size, times=stamps * dt, indices=idx)
        net.connect(f"src_{port}", "n", ns.arrays(np.arange(w.size), np.zeros(w.size, int)),
                    weight=w, delay=d * dt, port=port)
    for var in ("V_m", "g_ex", "g_in"):
        net.state_monitor("n", var)
    net.spike_monitor("n")
    sim = net.compile(dt=dt)
    sim.run(T_RUN)
    return (sim.spike_steps("n")[0],
            {v: sim.state("n", v)[1][:, 0] for v in ("V_m", "g_ex", "g_in")})


def _run_brian2(dt_ms, p, inputs, refractory_steps=1, extra_delay_steps=0):
    """The neuron in Brian2 (mapping in the module docstring). ``refractory_steps`` is added
    to t_ref in steps (1: the mapping; 0: Brian2's default), ``extra_delay_steps`` to every
    delay (0: the mapping): the controls switch one convention off."""
    from brian2 import ms, mV, nS, pA, pF

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    dt = dt_ms * ms
    namespace = dict(C_m=p["C_m"] * pF, g_L=p["g_L"] * nS, E_L=p["E_L"] * mV,
                     E_ex=p["E_ex"] * mV, E_in=p["E_in"] * mV, V_th=p["V_th"] * mV,
                     V_reset=p["V_reset"] * mV, I_e=p["I_e"] * pA,
                     tau_ex=p["tau_syn_ex"] * ms, tau_in=p["tau_syn_in"] * ms)
    eqs = """
    dv/dt = (g_L * (E_L - v) + g_ex * (E_ex - v) + g_in * (E_in - v) + I_e) / C_m : volt (unless refractory)
    dg_ex/dt = -g_ex / tau_ex : siemens
    dg_in/dt = -g_in / tau_in : siemens
    """  # noqa: E501
    G = b2.NeuronGroup(1, eqs, threshold="v >= V_th", reset="v = V_reset",
                       refractory=(p["t_ref"] + refractory_steps * dt_ms) * ms,
                       method="exponential_euler", dt=dt, namespace=namespace)
    G.v = p["E_L"] * mV
    objs = [G]
    for port, (stamps, idx, w, d) in inputs.items():
        src = b2.SpikeGeneratorGroup(w.size, idx, (stamps - 1) * dt, dt=dt)
        S = b2.Synapses(src, G, model="w : siemens", on_pre=f"g_{port[:2]}_post += w", dt=dt)
        S.connect(i=np.arange(w.size), j=np.zeros(w.size, int))
        S.w = w * nS
        S.delay = (d + extra_delay_steps) * dt
        objs += [src, S]
    spikes = b2.SpikeMonitor(G)
    states = b2.StateMonitor(G, ["v", "g_ex", "g_in"], record=0, when="end", dt=dt)
    objs += [spikes, states]
    b2.Network(*objs).run(T_RUN * ms, namespace={})
    stamps = np.rint(np.asarray(spikes.t / dt)).astype(np.int64) + 1
    return stamps, {"V_m": np.asarray(states.v[0] / mV),
                    "g_ex": np.asarray(states.g_ex[0] / nS),
                    "g_in": np.asarray(states.g_in[0] / nS)}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    dt, p, exc, inh = CASES[request.param]
    inputs = _inputs(dt, exc, inh)
    return dt, p, inputs, _run_neurosim(dt, p, inputs)


def test_case_is_busy(case):
    """Enough spikes to mean something, and input on both ports."""
    _, _, inputs, (stamps, tr) = case
    assert 10 <= stamps.size <= 30
    assert tr["g_ex"].max() > 0 and tr["g_in"].max() > 0
    assert all(inputs[q][0].size > 50 for q in ("exc", "inh"))


def test_spikes_and_traces_equal_brian2(case):
    """Spike stamps identical; V, g_ex, g_in after every step equal to 1e-9 relative."""
    dt, p, inputs, (stamps, tr) = case
    b_stamps, b_tr = _run_brian2(dt, p, inputs)
    np.testing.assert_array_equal(stamps, b_stamps)
    n = round(T_RUN / dt)
    for var in ("V_m", "g_ex", "g_in"):
        assert b_tr[var].shape == tr[var].shape == (n,)
        np.testing.assert_allclose(tr[var], b_tr[var], rtol=1e-9, atol=0, err_msg=var)


@pytest.mark.parametrize("switch_off", ["refractory", "delay"])
def test_brian2_mapping_matters(case, switch_off):
    """Control: with Brian2's default refractory period (t_ref, not t_ref + dt), or with every
    input one step later, V parts from neurosim's by far more than the tolerance above."""
    dt, p, inputs, (_, tr) = case
    kw = dict(refractory_steps=0) if switch_off == "refractory" else dict(extra_delay_steps=1)
    _, b_tr = _run_brian2(dt, p, inputs, **kw)
    assert np.max(np.abs(tr["V_m"] - b_tr["V_m"])) > 1e-3
