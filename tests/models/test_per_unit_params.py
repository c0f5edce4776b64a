"""Parameters given per unit (arrays, distributions), as in NEST and Brian2.

A population whose parameters differ between units must behave, unit for unit and bit for
bit, like one population per unit with that unit's numbers: the kernels read the same
coefficients (``coef[:, u]`` instead of ``coef``) in the same operations. Checked for every
registered model at the kernel, and through the whole engine (ring, jumps, a current
stimulus, one and two threads); the NEST comparison is in tests/reference/test_peers.py.
"""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim import registry
from neurosim.errors import ConfigError
from neurosim.kernels.coefs import pack
from neurosim.population import Population
from neurosim.spec import NeuronSpec

N, STEPS, DT = 12, 300, 0.1
NET = 4  # units of the per-unit population in the network tests (one population each too)


def per_unit(spec, n, rng) -> dict:
    """Values for every parameter of ``spec``, different in each unit and valid: defaults
    scaled by 0.9-1.1, zero defaults drawn (a current to make units fire, a delay), a bound
    that is off (-inf) on in some units, flags (threshold_ge) 0 or 1."""
    out = {}
    for p in spec.params:
        d = p.default
        if p.name == "threshold_ge":
            v = rng.integers(0, 2, n).astype(float)
        elif d == -np.inf:
            v = np.where(rng.random(n) < 0.5, -np.inf, -80.0)
        elif d == 0.0:
            v = rng.uniform(200.0, 600.0, n) if p.unit == "pA" else rng.uniform(0.0, 3.0, n)
        else:
            v = d * rng.uniform(0.9, 1.1, n)
        out[p.name] = v
    return out


def kernel_run(spec, state, coef, lo_hi, inputs, i_ext):
    """STEPS kernel calls over the unit ranges ``lo_hi``; returns (state, spikes)."""
    spikes = np.zeros((STEPS, N), np.uint8)
    for k in range(STEPS):
        slot = inputs[k].copy()
        for lo, hi in lo_hi:
            spec.update(lo, hi, state, coef, slot, i_ext, spikes[k])
    return state, spikes


@pytest.mark.parametrize("name", registry.names())
def test_kernel_per_unit_equals_one_population_per_unit(name):
    spec = registry.get(name)
    rng = np.random.default_rng(3)
    values = per_unit(spec, N, rng)
    pop = Population("p", name, N, **values)
    state = pop.initial_state(rng, pop.params)
    table = spec.unit_coefficients("p", pop.params, DT, N)
    assert table.shape == (len(spec.coef_names), N)
    coef = pack(table)  # rows per unit where values differ, numbers elsewhere
    assert isinstance(coef, tuple) and any(np.ndim(c) for c in coef)
    w = np.abs(rng.normal(0.0, 150.0, (STEPS, len(spec.ports), N)))
    inputs = np.where(rng.random(w.shape) < 0.3, w, 0.0)
    i_ext = rng.uniform(0.0, 100.0, N)
    # the per-unit kernel over two unequal ranges (rows sliced from lo)
    got, got_spikes = kernel_run(spec, state.copy(), coef, [(0, 5), (5, N)], inputs, i_ext)
    for u in range(N):  # each unit alone, with its own population-wide coefficients
        own = {k: float(v[u]) for k, v in values.items()}
        c = np.array(spec.coefficients("p", own, DT))
        want, want_spikes = kernel_run(spec, state.copy(), c, [(u, u + 1)], inputs, i_ext)
        np.testing.assert_array_equal(got[:, u], want[:, u])
        np.testing.assert_array_equal(got_spikes[:, u], want_spikes[:, u])
    assert got_spikes.any() and not np.array_equal(got, state)  # something happened


#: weight scale per model: pA (current synapses), mV (delta synapses), nS (conductances)
W = {"iaf_psc_exp": 1.0, "iaf_psc_delta": 0.01, "lif_cond_exp": 0.01}


def _network(model, values, singles, n=NET):
    """Spike trains into ``model`` through a ring projection (delays 1-3 ms) and a
    single-delay one (jumps where the model has them), plus a current step; population
    ``het`` has the per-unit ``values``; with ``singles``, populations ``u0``, ``u1``, ...
    are its units, one population each."""
    rng = np.random.default_rng(5)
    n_in, T = 6, 200.0
    times = np.sort(rng.uniform(1.0, T - 20.0, 300)).round(1)
    idx = rng.integers(0, n_in, times.size)
    pre = np.repeat(np.arange(n_in), n)
    post = np.tile(np.arange(n), n_in)
    w_ring = rng.uniform(50.0, 400.0, pre.size) * W[model]
    d_ring = rng.integers(10, 31, pre.size) * 0.1
    w_jump = rng.uniform(-200.0, 300.0, pre.size) * W[model]
    net = ns.Network(seed=2)
    net.spike_train("inp", n_in, times=times, indices=idx)
    net.population("het", model, n, **values)
    for u in range(n if singles else 0):
        net.population(f"u{u}", model, 1, **{k: float(v[u]) for k, v in values.items()})
    for name in ["het"] + [f"u{u}" for u in range(n if singles else 0)]:
        sel = slice(None) if name == "het" else post == int(name[1:])
        tgt = post[sel] if name == "het" else np.zeros(int(sel.sum()), int)
        net.connect("inp", name, ns.arrays(pre[sel], tgt), weight=w_ring[sel],
                    delay=d_ring[sel], port="exc")
        exc = w_jump[sel] > 0
        for port, m in (("exc", exc), ("inh", ~exc)):
            w = w_jump[sel][m]
            net.connect("inp", name, ns.arrays(pre[sel][m], tgt[m]),
                        weight=np.abs(w) if model == "lif_cond_exp" else w, delay=1.0, port=port)
        net.current(name, [50.0, 120.0], [150.0, -50.0])
        net.spike_monitor(name)
        net.state_monitor(name, "V_m")
    return net


def _values(model, n, seed=11):
    rng = np.random.default_rng(seed)
    values = {k: v for k, v in per_unit(registry.get(model), n, rng).items()
              if k in ("tau_m", "C_m", "g_L", "V_th", "I_e", "t_ref", "tau_syn_ex", "V_min")}
    if model == "lif_cond_exp":
        values["I_e"] = rng.uniform(0.0, 200.0, n)
        values["tau_syn_ex"] = rng.uniform(0.5, 2.0, n)  # the jumping weights are in nS
    return values


@pytest.mark.parametrize("model", ["iaf_psc_exp", "iaf_psc_delta", "lif_cond_exp"])
def test_network_per_unit_equals_one_population_per_unit(model):
    sim = _network(model, _values(model, NET), singles=True).compile(dt=DT)
    sim.run(200.0)
    k, i = sim.spike_steps("het")
    _, v = sim.state("het", "V_m")
    assert k.size > 3 * NET
    for u in range(NET):
        ku, _ = sim.spike_steps(f"u{u}")
        np.testing.assert_array_equal(k[i == u], ku)
        np.testing.assert_array_equal(v[:, u], sim.state(f"u{u}", "V_m")[1][:, 0])


def test_per_unit_on_two_threads_equals_one_thread(force_split):
    """Two threads each integrate a range of the per-unit population (coefficient columns
    from the range's first unit on): the same numbers as one thread."""
    n = 40
    net = _network("iaf_psc_exp", _values("iaf_psc_exp", n), singles=False, n=n)
    one = net.compile(dt=DT, threads=1)
    two = net.compile(dt=DT, threads=2)
    assert two._pops["het"].chunks.tolist() == [0, 16, 40]
    for sim in (one, two):
        sim.run(200.0)
    assert one.spike_steps("het")[0].size > 3 * n
    for a, b in zip(one.spike_steps("het"), two.spike_steps("het"), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.state("het", "V_m")[1], two.state("het", "V_m")[1])


def test_closed_form_dc_response_per_unit():
    """V_u(t) = E_L + I_e,u tau_m,u / C_m,u (1 - exp(-t / tau_m,u)) for each unit."""
    tau = np.array([5.0, 10.0, 20.0, 40.0])
    c_m = np.array([100.0, 250.0, 250.0, 400.0])
    i_e = np.array([100.0, 50.0, 150.0, 200.0])
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 4, tau_m=tau, C_m=c_m, I_e=i_e, V_th=1e6, E_L=-65.0)
    net.state_monitor("n", "V_m")
    sim = net.compile(dt=0.1)
    sim.run(100.0)
    t, v = sim.state("n", "V_m")
    want = -65.0 + i_e * tau / c_m * (1 - np.exp(-t[:, None] / tau))
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-9)


def test_distributions_are_drawn_with_the_seed():
    def tau(seed):
        net = ns.Network(seed=seed)
        net.population("n", "iaf_psc_exp", 1000, tau_m=ns.Uniform(8.0, 12.0), V_th=-55.0)
        return net.compile().param("n", "tau_m")

    a, b, c = tau(1), tau(1), tau(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 8.0 <= a.min() and a.max() < 12.0 and abs(a.mean() - 10.0) < 0.1


def test_init_named_by_a_per_unit_param_takes_its_values():
    e_l = np.array([-70.0, -65.0, -60.0])
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 3, E_L=e_l, V_reset=-70.0)
    np.testing.assert_array_equal(net.compile().get("n", "V_m"), e_l)


def test_set_params_per_unit_recompiles_once():
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 3, I_e=400.0)
    net.spike_monitor("n")
    sim = net.compile()
    sim.run(50.0)
    assert sim.spike_steps("n")[0].size > 0
    compiled = len(sim._run_chunk.signatures)
    sim.set_params("n", I_e=np.array([0.0, 400.0, 0.0]))  # now per unit: a second variant
    sim.run(50.0)
    assert len(sim._run_chunk.signatures) == compiled + 1
    sim.set_params("n", I_e=np.array([400.0, 0.0, 0.0]), tau_m=12.0)  # new values only
    k0 = sim.spike_steps("n")[0].size
    sim.run(50.0)
    assert len(sim._run_chunk.signatures) == compiled + 1
    k, i = sim.spike_steps("n")
    late = k > 1000
    assert set(i[late].tolist()) == {0} and k.size > k0
    np.testing.assert_array_equal(sim.param("n", "I_e"), [400.0, 0.0, 0.0])
    assert sim.param("n", "tau_m") == 12.0


def test_bad_per_unit_values_are_refused():
    net = ns.Network(seed=0)
    with pytest.raises(ConfigError, match=r"'tau_m'.*shape \(2,\).*shape \(3,\)"):
        net.population("a", "iaf_psc_exp", 3, tau_m=[10.0, 12.0])
    with pytest.raises(ConfigError, match=r"'tau_m' = -1\.0 \(unit 1\) must be > 0"):
        net.population("b", "iaf_psc_exp", 3, tau_m=[10.0, -1.0, 12.0])
    with pytest.raises(ConfigError, match=r"'V_th' = nan \(unit 2\)"):
        net.population("c", "iaf_psc_exp", 3, V_th=[-55.0, -55.0, np.nan])
    with pytest.raises(ConfigError, match=r"'I_e'.*not a number or an array"):
        net.population("d", "iaf_psc_exp", 2, I_e=["a", "b"])
    net.population("e", "iaf_psc_exp", 3, tau_m=ns.Normal(10.0, 50.0))
    with pytest.raises(ConfigError, match=r"Population 'e'.*'tau_m'.*\(unit \d+\) must be > 0"):
        net.compile()


def test_bad_set_params_changes_nothing():
    net = ns.Network(seed=0)
    net.population("n", "iaf_psc_exp", 3, I_e=np.array([1.0, 2.0, 3.0]))
    sim = net.compile()
    coef = sim._pops["n"].coef
    for bad in (dict(I_e=[1.0, 2.0]), dict(tau_m=[10.0, 0.0, 10.0]),
                dict(tau_m=ns.Uniform(5.0, 6.0)), dict(I_e=5.0, C_m=-1.0)):
        with pytest.raises(ConfigError, match="Population 'n'"):
            sim.set_params("n", **bad)
    assert sim._pops["n"].coef is coef
    np.testing.assert_array_equal(sim.param("n", "I_e"), [1.0, 2.0, 3.0])
    assert net.pops["n"].params["tau_m"] == 10.0


def test_pack_keeps_shared_coefficients_as_numbers():
    spec = registry.get("iaf_psc_exp")
    p = {**spec.defaults(), "V_th": np.array([-55.0, -54.0, -53.0])}
    coef = pack(spec.unit_coefficients("p", p, 0.1, 3))
    assert [np.ndim(c) for c in coef] == [0] * 8 + [1] + [0] * 2  # only V_th is a row
    np.testing.assert_array_equal(coef[8], p["V_th"])
    assert coef[1] == math.exp(-0.1 / 10.0)  # derive uses math
    same = pack(spec.unit_coefficients("p", {**p, "V_th": np.full(3, -50.0)}, 0.1, 3))
    assert isinstance(same, np.ndarray) and same.shape == (11,) and same[8] == -50.0


def test_derive_runs_once_per_distinct_combination(monkeypatch):
    spec = registry.get("iaf_psc_exp")
    calls = []
    coefficients = NeuronSpec.coefficients
    monkeypatch.setattr(NeuronSpec, "coefficients",
                        lambda self, *a: calls.append(1) or coefficients(self, *a))
    params = {**spec.defaults(), "tau_m": np.array([10.0, 20.0, 10.0, 20.0, 10.0]),
              "V_th": np.array([-50.0, -50.0, -50.0, -50.0, -52.0])}
    coef = spec.unit_coefficients("p", params, 0.1, 5)
    assert len(calls) == 3
    np.testing.assert_array_equal(coef[:, 0], coef[:, 2])
    np.testing.assert_array_equal(coef[:, 1], coef[:, 3])
    assert coef[8, 4] == -52.0 and coef[1, 0] != coef[1, 1]


def test_result_files_store_per_unit_values(tmp_path):
    net = ns.Network(seed=4)
    net.population("n", "iaf_psc_exp", 50, tau_m=ns.Uniform(8.0, 12.0), I_e=380.0,
                   V_th=np.linspace(-56.0, -54.0, 50))
    net.spike_monitor("n")
    sim = net.compile()
    with sim.record(tmp_path / "run.h5"):
        sim.run(100.0)
    res = ns.io.load(tmp_path / "run.h5")
    np.testing.assert_array_equal(res.param("n", "tau_m"), sim.param("n", "tau_m"))
    np.testing.assert_array_equal(res.param("n", "V_th"), np.linspace(-56.0, -54.0, 50))
    assert res.param("n", "I_e") == 380.0
    assert "per unit: V_th, tau_m" in res.summary()
    described = res.network["populations"]["n"]["params"]
    assert described["tau_m"]["value"] == {"distribution": "Uniform", "low": 8.0, "high": 12.0}
    assert described["V_th"]["value"]["array"] == [50]
    with pytest.raises(ConfigError, match="parameter of population 'n'"):
        res.param("n", "nope")
