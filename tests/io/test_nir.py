"""NIR import/export (neurosim.io.nir) and the snnTorch / SpikingJelly bridges.

Round trips neurosim -> NIR -> neurosim must give the same network (description, synapses,
initial state) and the same spikes; networks exported by snnTorch and SpikingJelly must spike
exactly as in those frameworks, and a neurosim network imported into snnTorch exactly as in
neurosim. Time convention (module docstring of neurosim.io.nir): framework step t of a
population k synaptic steps from the input is neurosim step t + k (stamp t + k + 1).
"""

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import neurosim as ns
from neurosim.errors import ConfigError

nir = pytest.importorskip("nir")
nio = pytest.importorskip("neurosim.io.nir")

DT = 0.1  # ms: NIR's de-facto 1e-4 s


# ---------------------------------------------------------------------------- helpers
def _dense(net, pre, post, weight, delay=DT, port="in", name=None):
    """All-to-all synapses with a weight matrix (n_post, n_pre)."""
    weight = np.asarray(weight)
    po, pr = np.nonzero(np.ones_like(weight))
    net.connect(pre, post, ns.arrays(pr, po), weight[po, pr], delay, port=port, name=name)


def _zoo():
    """A network with every population kind that maps onto a NIR node type."""
    rng = np.random.default_rng(3)
    net = ns.Network(seed=7)
    net.spike_train("inp", 6, rng.uniform(0.1, 30.0, 150).round(1), rng.integers(0, 6, 150))
    net.poisson("noise", 3, 400.0)
    tau = rng.uniform(0.5, 2.0, 8)
    # LIF (+ Affine bias), Threshold, LI, IF, I, CubaLIF, CubaLI, iaf_psc_delta, iaf_psc_exp
    net.population("lif", "nir_lif", 8, tau_m=tau, R=tau / DT, V_th=1.0,
                   I_bias=rng.uniform(0.0, 0.2, 8), t_bias=DT, V_m=rng.uniform(0, 0.5, 8))
    net.population("thr", "nir_lif", 4, tau_m=0.0, R=1.0, V_leak=0.0, V_th=0.5)
    net.population("li", "nir_lif", 3, tau_m=1.0, R=2.0, V_leak=-0.1, V_th=np.inf)
    net.population("ifn", "nir_if", 5, R=rng.uniform(1.0, 3.0, 5), V_th=1.0, V_reset=-0.2,
                   threshold_ge=1.0)
    net.population("integ", "nir_if", 2, R=0.5, V_th=np.inf)
    net.population("cuba", "nir_cubalif", 5, tau_syn=0.4, tau_m=rng.uniform(0.5, 1.5, 5),
                   R=10.0, w_in=4.0, V_th=1.0)
    net.population("culi", "nir_cubalif", 2, tau_syn=0.3, tau_m=0.8, V_th=np.inf)
    net.population("delta", "iaf_psc_delta", 4, t_ref=0.0, I_e=200.0, V_m=-60.0,
                   tau_m=rng.uniform(8.0, 12.0, 4))  # per-unit parameters: arrays in NIR
    net.population("exp", "iaf_psc_exp", 4, t_ref=0.0, tau_syn_ex=2.0, tau_syn_in=2.0,
                   V_th=rng.uniform(-56.0, -54.0, 4), C_m=rng.uniform(200.0, 300.0, 4))
    # random rules, distributions, per-synapse delays (-> several Linear + Delay nodes)
    net.connect("inp", "lif", ns.fixed_prob(0.7), ns.Normal(1.2, 0.4),
                delay=ns.Uniform(0.1, 0.5), port="in")
    net.connect("noise", "lif", ns.all_to_all(), 0.6, DT, port="in")
    net.connect("lif", "lif", ns.fixed_indegree(3, multapses=False), -0.3, 0.3, port="in")
    net.connect("lif", "thr", ns.fixed_prob(0.5), ns.Uniform(0.2, 0.8), DT, port="in")
    net.connect("lif", "li", ns.all_to_all(), 0.3, 0.2, port="in")
    net.connect("lif", "ifn", ns.all_to_all(), 0.1, DT, port="in")
    net.connect("ifn", "integ", ns.all_to_all(), 0.2, DT, port="in")
    net.connect("lif", "cuba", ns.all_to_all(), 0.2, DT, port="in")
    net.connect("cuba", "culi", ns.all_to_all(), 0.5, 0.4, port="in")
    net.connect("lif", "delta", ns.all_to_all(), 6.0, 1.0)
    net.connect("lif", "exp", ns.all_to_all(), 400.0, DT, port="exc")
    net.connect("delta", "exp", ns.one_to_one(), -300.0, DT, port="inh")
    net.current("delta", [5.0, 10.0], [100.0, 0.0], indices=[0, 1])
    for pop in ("lif", "thr", "ifn", "cuba", "delta", "exp"):
        net.spike_monitor(pop)
    for pop in ("li", "integ", "culi"):
        net.state_monitor(pop, "V_m")
    net.state_monitor("lif", "V_m", indices=[0, 3], every=2)
    return net


def _assert_same(a: ns.Network, b: ns.Network, duration=40.0):
    """Same description, synapses, initial state, spikes and recorded state."""
    assert b.describe() == a.describe()
    sa, sb = a.compile(DT), b.compile(DT)
    for name in a.projections:
        ca, cb = sa.projection(name), sb.projection(name)
        for f in ("indptr", "post"):
            np.testing.assert_array_equal(getattr(ca, f), getattr(cb, f))
        np.testing.assert_array_equal(ca.weights(), cb.weights())
        np.testing.assert_array_equal(ca.delays(), cb.delays())
    for name, pop in a.pops.items():
        if isinstance(pop, ns.network.Population):
            for var in pop.spec.state_names:
                np.testing.assert_array_equal(sa.get(name, var), sb.get(name, var))
    sa.run(duration)
    sb.run(duration)
    n = 0
    for m in a.spike_monitors:
        ka, ia = sa.spike_steps(m.pop)
        kb, ib = sb.spike_steps(m.pop)
        np.testing.assert_array_equal(ka, kb)
        np.testing.assert_array_equal(ia, ib)
        n += ka.size
    for m in a.state_monitors:
        np.testing.assert_array_equal(sa.state(m.pop, m.var)[1], sb.state(m.pop, m.var)[1])
    return sa, n


# -------------------------------------------------------------- neurosim -> NIR -> neurosim
@pytest.mark.parametrize("via", ["memory", "file"])
def test_roundtrip_every_node_type(via, tmp_path):
    net = _zoo()
    path = tmp_path / "zoo.nir" if via == "file" else None
    graph = nio.write(net, path, dt=1e-4)
    types = {type(n).__name__ for n in graph.nodes.values()}
    assert types == {"Input", "Output", "Affine", "Linear", "Delay", "LIF", "LI", "Threshold",
                     "IF", "I", "CubaLIF", "CubaLI"}
    assert graph.metadata["dt"] == 1e-4 and graph.metadata["time_unit"] == "s"
    back = nio.read(path if via == "file" else graph, dt=1e-4)
    sim, n_spikes = _assert_same(net, back.network)
    assert n_spikes > 300
    for pop in ("lif", "thr", "ifn", "cuba", "delta", "exp"):  # every population is active
        assert sim.spike_steps(pop)[0].size > 0, pop
    assert back.kinds["thr"] == "Threshold" and back.kinds["integ"] == "I"


def test_roundtrip_of_parameters_drawn_from_distributions():
    """A distribution is exported as the values drawn (those a simulation of the network
    uses), and read back as those arrays."""
    net = ns.Network(seed=3)
    net.spike_train("inp", 3, [1.0, 2.0, 4.0, 7.0], [0, 1, 2, 0])
    net.population("exp", "iaf_psc_exp", 6, t_ref=0.0, tau_syn_in=2.0, I_e=350.0,
                   tau_m=ns.Uniform(8.0, 12.0), V_th=ns.Normal(-55.0, 0.5))
    net.connect("inp", "exp", ns.all_to_all(), 300.0, DT, port="exc")
    net.spike_monitor("exp")
    back = nio.read(nio.write(net), dt=1e-4).network
    a, b = net.compile(DT), back.compile(DT)
    for k in ("tau_m", "V_th"):
        assert np.unique(a.param("exp", k)).size == 6
        np.testing.assert_array_equal(b.param("exp", k), a.param("exp", k))
    a.run(100.0)
    b.run(100.0)
    assert a.spike_steps("exp")[0].size >= 8
    for x, y in zip(a.spike_steps("exp"), b.spike_steps("exp"), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_silent_population_that_sends_stays_a_spiking_node():
    """V_th = +inf: a LI node only as a read-out; with outgoing synapses a LIF that never
    fires (NIR's LI would send its membrane potential)."""
    net = ns.Network(seed=3)
    net.spike_train("inp", 2, [0.1, 0.5], [0, 1])
    net.population("silent", "nir_lif", 2, V_th=np.inf)
    net.population("li", "nir_lif", 2, V_th=np.inf)
    net.connect("inp", "silent", ns.all_to_all(), 1.0, port="in")
    net.connect("silent", "li", ns.all_to_all(), 1.0, port="in")
    graph = nio.write(net)
    assert type(graph.nodes["silent"]).__name__ == "LIF"
    assert type(graph.nodes["li"]).__name__ == "LI"
    _assert_same(net, nio.read(graph).network, duration=2.0)


def test_roundtrip_of_a_simulation_keeps_changed_weights():
    net = _zoo()
    sim = net.compile(DT)
    w = sim.projection("lif_to_li").weights().copy()
    sim.set_weights("lif_to_li", w * 2.0)
    back = nio.read(nio.write(sim)).network
    s2 = back.compile(DT)
    np.testing.assert_array_equal(s2.projection("lif_to_li").weights(), w * 2.0)
    assert back.projections["lif_to_li"].rule.__class__.__name__ == "Explicit"
    assert back.projections["inp_to_lif"].rule == net.projections["inp_to_lif"].rule


def test_edited_graph_uses_the_nir_parameters():
    net = _zoo()
    graph = nio.write(net)
    graph.nodes["lif"].tau = graph.nodes["lif"].tau * 2.0
    graph.nodes["delta"].v_threshold = graph.nodes["delta"].v_threshold + 1.0
    with pytest.warns(UserWarning, match="differ from those neurosim.s metadata gives"):
        back = nio.read(graph).network
    np.testing.assert_allclose(back.pops["lif"].init["tau_m"],
                               net.pops["lif"].init["tau_m"] * 2.0)
    assert back.pops["delta"].spec.name == "nir_lif"  # no longer the exact iaf_psc_delta
    assert back.pops["delta"].init["V_th"] == -54.0


def test_read_warns_about_another_dt():
    graph = nio.write(_zoo(), dt=1e-4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = nio.read(graph, dt=2e-4)
    msgs = [str(x.message) for x in w]
    assert "metadata says dt = 0.0001 s" in msgs[0]
    # iaf_psc_* were exported with r = tau_m/dt: at another dt they become nir_* models
    assert sum("(edited by another tool, or read with another dt?)" in m for m in msgs) == 2
    assert r.dt == pytest.approx(0.2)
    assert r.network.pops["delta"].spec.name == "nir_lif"


# ------------------------------------------------ NIR graphs: Scale, Flatten, Delay, nesting
def _lif_reference(x, W, b, tau, thr, W_rec=None, delays=None, dt=1e-4):
    """The frameworks' discrete LIF (snnTorch Leaky, reset to 0) with an input layer W x + b,
    optional recurrent weights and per-target input delays (steps), in numpy."""
    n = W.shape[0]
    delays = np.zeros(n, int) if delays is None else delays
    v, s, out = np.zeros(n), np.zeros(n), []
    for t in range(len(x)):
        drive = b.copy()
        for i in range(n):
            if t >= delays[i]:
                drive[i] += W[i] @ x[t - delays[i]]
        if W_rec is not None:
            drive += W_rec @ s
        v = v * (1.0 - dt / tau) + drive
        s = (v > thr).astype(float)
        v[s > 0] = 0.0
        out.append(s)
    return np.array(out)


def _nested_graph(rng, delays):
    n_h = 6
    tau = rng.uniform(2e-4, 1e-3, n_h)
    W, b = rng.normal(0.4, 0.5, (n_h, 8)), rng.normal(0.0, 0.05, n_h)
    s, W_rec = rng.uniform(0.5, 1.5, n_h), rng.normal(0.0, 0.4, (n_h, n_h))
    sub = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([n_h])}),
        "lif": nir.LIF(tau=tau, r=tau / 1e-4, v_leak=np.zeros(n_h), v_threshold=np.ones(n_h),
                       v_reset=np.zeros(n_h)),
        "w_rec": nir.Linear(weight=W_rec),
        "output": nir.Output(output_type={"output": np.array([n_h])})},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([2, 4])}),
        "flat": nir.Flatten(input_type={"input": np.array([2, 4])}, start_dim=0),
        "fc": nir.Affine(weight=W, bias=b),
        "scale": nir.Scale(scale=s),
        "delay": nir.Delay(delay=delays * 1e-4),
        "rnn": sub,
        "output": nir.Output(output_type={"output": np.array([n_h])})},
        edges=[("input", "flat"), ("flat", "fc"), ("fc", "scale"), ("scale", "delay"),
               ("delay", "rnn"), ("rnn", "output")])
    return graph, (s[:, None] * W, s * b, tau, W_rec)


def test_nested_graph_scale_flatten_delay(tmp_path):
    rng = np.random.default_rng(11)
    delays = np.array([0, 0, 1, 3, 0, 2])
    graph, (W, b, tau, W_rec) = _nested_graph(rng, delays)
    x = (rng.random((150, 2, 4)) < 0.3).astype(float)
    r = nio.read(graph)
    assert r.nodes["rnn.lif"] == "rnn__lif" and r.onset["rnn__lif"] == 1
    got = r.run({"input": x})["output"]
    want = _lif_reference(x.reshape(150, 8), W, b, tau, 1.0, W_rec, delays)
    assert want.sum() > 100
    np.testing.assert_array_equal(got, want)
    # the imported network goes around neurosim -> NIR file -> neurosim unchanged
    nio.write(r.network, tmp_path / "nested.nir")
    back = nio.read(tmp_path / "nested.nir")
    _assert_same(r.network, back.network)
    np.testing.assert_array_equal(back.run({"input": x})["output"], want)


@dataclass(eq=False)
class Mystery(nir.NIRNode):
    """A node type neurosim does not know."""

    def __post_init__(self):
        self.input_type = {"input": np.array([2])}
        self.output_type = {"output": np.array([2])}


def test_read_refuses_what_neurosim_cannot_run():
    with pytest.raises(ConfigError, match=r"NIR node 'mystery': parameter 'type' = 'Mystery'"):
        nio.read(nir.NIRGraph.from_list(Mystery()))
    li = nir.LI(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2))
    g = nir.NIRGraph.from_list(nir.Linear(np.ones((2, 2))), li, nir.Linear(np.ones((2, 2))),
                               nir.LIF(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2),
                                       v_threshold=np.ones(2)))
    with pytest.raises(ConfigError, match=r"NIR node 'li' \(LI\): parameter 'output' = "
                                          r"'membrane potential' cannot feed other neurons"):
        nio.read(g)
    g = nir.NIRGraph.from_list(nir.LIF(tau=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3),
                                       v_threshold=np.ones(3)), nir.Affine(np.ones((2, 3)),
                                                                         np.zeros(2)))
    with pytest.raises(ConfigError, match=r"NIR node 'output' \(Output\): parameter 'input'"):
        nio.read(g)
    g = nir.NIRGraph.from_list(nir.LIF(tau=np.full(3, -1e-3), r=np.ones(3),
                                       v_leak=np.zeros(3), v_threshold=np.ones(3)))
    with pytest.raises(ConfigError, match=r"NIR node 'lif' \(LIF\): parameter 'tau'"):
        nio.read(g)
    r = nio.read(nir.NIRGraph.from_list(nir.Linear(np.ones((3, 2))), nir.LIF(
        tau=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3))))
    with pytest.raises(ConfigError, match=r"parameter 'spikes' = 'non-integer"):
        r.set_input("input", np.full((5, 2), 0.5))


# ------------------------------------------------------------------------ refused exports
@pytest.mark.parametrize("model, values, param, value", [
    ("alif_psc_exp", {}, "model", "'alif_psc_exp'"),
    ("izhikevich", {}, "model", "'izhikevich'"),
    ("iaf_psc_delta", {}, "t_ref", "2.0"),
    ("iaf_psc_exp", {"t_ref": 0.5}, "t_ref", "0.5"),
    ("iaf_psc_delta", {"t_ref": 0.0, "V_min": -80.0}, "V_min", "-80.0"),
    ("iaf_psc_exp", {"t_ref": 0.0, "tau_syn_in": 3.0}, "tau_syn_in", "3.0"),
    ("iaf_psc_exp", {"t_ref": np.array([0.0, 0.5, 0.0])}, "t_ref", "array([0. , 0.5, 0. ])"),
])
def test_refused_exports_name_object_parameter_value(model, values, param, value):
    net = ns.Network(seed=1)
    net.spike_train("inp", 2, [1.0], [0])
    net.population("pop", model, 3, **values)
    net.connect("inp", "pop", ns.all_to_all(), 1.0)
    msg = f"Population 'pop': parameter '{param}' = {value} "
    with pytest.raises(ConfigError, match=re.escape(msg)) as e:
        nio.write(net)
    assert "NIR" in str(e.value)


def test_refused_noise_current():
    net = ns.Network(seed=1)
    net.population("pop", "iaf_psc_delta", 2, t_ref=0.0)
    net.noise_current("pop", std=5.0)
    with pytest.raises(ConfigError, match=r"NoiseCurrent on 'pop': parameter 'std' = 5.0 "
                                          r"cannot be exported: NIR has no noise source"):
        nio.write(net)


def test_refused_bias_without_input():
    net = ns.Network(seed=1)
    net.population("pop", "nir_lif", 2, I_bias=0.5)
    with pytest.raises(ConfigError, match=r"Population 'pop': parameter 'I_bias' = 0.5 .*"
                                          r"no incoming projection"):
        nio.write(net)


def test_nir_lif_is_the_frameworks_euler_step():
    """nir_lif: V <- V_leak + (V - V_leak)(1 - h/tau) + (R h/tau) I, fire on V > V_th."""
    net = ns.Network(seed=1)
    net.spike_train("inp", 1, [0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0])
    net.population("a", "nir_lif", 2, tau_m=[0.5, 0.0], R=[5.0, 1.0], V_leak=0.1,
                   V_th=[1.0, 0.45], V_m=0.1, I_bias=0.05, t_bias=0.3)
    net.connect("inp", "a", ns.all_to_all(), 0.4, DT, port="in")
    net.spike_monitor("a")
    net.state_monitor("a", "V_m")
    sim = net.compile(DT)
    sim.run(0.6)
    v, want, spikes = np.array([0.1, 0.1]), [], []
    for k in range(6):
        cur = (0.4 if 1 <= k <= 4 else 0.0) + (0.05 if k >= 3 else 0.0)
        v = np.array([0.1 + (v[0] - 0.1) * (1 - DT / 0.5) + 5.0 * DT / 0.5 * cur,
                      0.1 + 1.0 * cur])
        fire = v > np.array([1.0, 0.45])
        spikes += [(k + 1, i) for i in np.flatnonzero(fire)]
        v = np.where(fire, 0.0, v)
        want.append(v)
    np.testing.assert_allclose(sim.state("a", "V_m")[1], want, rtol=0, atol=1e-12)
    k, i = sim.spike_steps("a")
    assert list(zip(k.tolist(), i.tolist(), strict=True)) == spikes


# ------------------------------------------------------------------------------ snnTorch
def _snntorch_net(torch, snn, n_in=12, n_h=20, n_out=6, synaptic=False, seed=0, scalar=False):
    torch.manual_seed(seed)

    def layer(n, out=False):
        kw = dict(threshold=0.7 if scalar else torch.rand(n) * 0.5 + 0.5, init_hidden=True,
                  output=out, reset_mechanism="zero")
        if synaptic:
            return snn.Synaptic(alpha=torch.rand(n) * 0.4 + 0.3, beta=torch.rand(n) * 0.4 + 0.5,
                                reset_delay=False, **kw)
        return snn.Leaky(beta=0.8 if scalar else torch.rand(n) * 0.4 + 0.5, **kw)

    net = torch.nn.Sequential(torch.nn.Linear(n_in, n_h), layer(n_h),
                              torch.nn.Linear(n_h, n_out), layer(n_out, out=True))
    with torch.no_grad():
        net[0].weight.mul_(2.0)
        net[2].weight.mul_(2.0)
    return net


def _run_snntorch(torch, net, x):
    """Spikes of the hidden and the output layer, step by step (the time loop of snnTorch)."""
    from snntorch import utils

    hidden = []
    hook = net[1].register_forward_hook(lambda m, i, o: hidden.append(o[0].numpy().copy()))
    utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(len(x)):
            out.append(net(torch.as_tensor(x[t:t + 1], dtype=torch.float32))[0][0].numpy())
    hook.remove()
    return np.array(hidden), np.array(out)


@pytest.mark.parametrize("synaptic, scalar", [(False, False), (True, False), (False, True)],
                         ids=["Leaky", "Synaptic", "Leaky-scalar-beta"])
def test_snntorch_model_spikes_identically_in_neurosim(synaptic, scalar):
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    from neurosim.io.frameworks import from_snntorch

    net = _snntorch_net(torch, snn, synaptic=synaptic, scalar=scalar)
    x = (np.random.default_rng(4).random((150, 12)) < 0.3).astype(np.float32)
    hidden, out = _run_snntorch(torch, net, x)
    r = from_snntorch(net, torch.rand(1, 12))
    assert r.network.pops["n1"].spec.name == ("nir_cubalif" if synaptic else "nir_lif")
    assert r.onset == {"input": 0, "n1": 1, "n3": 2}
    r.network.spike_monitor("n1")
    got = r.run({"input": x})["output"]
    assert out.sum() > 50 and hidden.sum() > 200
    np.testing.assert_array_equal(got, out)  # framework step t = neurosim step t + 2
    np.testing.assert_array_equal(r.frames("n1", 150), hidden)  # ... t + 1


def test_snntorch_rleaky_spikes_identically_in_neurosim():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    from neurosim.io.frameworks import from_snntorch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 10), snn.RLeaky(
        beta=torch.rand(10) * 0.4 + 0.5, threshold=torch.ones(10), linear_features=10,
        init_hidden=True, output=True, reset_mechanism="zero", reset_delay=False))
    with torch.no_grad():
        net[0].weight.mul_(2.0)
        net[1].recurrent.weight.mul_(1.5)
    x = (np.random.default_rng(5).random((150, 6)) < 0.3).astype(np.float32)
    from snntorch import utils

    utils.reset(net)
    with torch.no_grad():
        want = np.array([net(torch.as_tensor(x[t:t + 1]))[0][0].numpy() for t in range(150)])
    got = from_snntorch(net, torch.rand(1, 6)).run({"input": x})["output"]
    assert want.sum() > 50
    np.testing.assert_array_equal(got, want)


def test_snntorch_exports_that_nir_cannot_hold_are_refused():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    from neurosim.io.frameworks import from_snntorch

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), snn.Leaky(beta=torch.full((2,), 0.9),
                                                               init_hidden=True))
    with pytest.raises(ConfigError, match=r"\(Leaky\): parameter 'reset_mechanism' = "
                                          r"'subtract'"):
        from_snntorch(net, torch.rand(1, 3))
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), snn.Synaptic(
        alpha=torch.full((2,), 0.5), beta=torch.full((2,), 0.9), init_hidden=True,
        reset_mechanism="zero"))
    with pytest.raises(ConfigError, match=r"\(Synaptic\): parameter 'reset_delay' = True"):
        from_snntorch(net, torch.rand(1, 3))


def test_neurosim_network_spikes_identically_in_snntorch():
    torch = pytest.importorskip("torch")
    pytest.importorskip("snntorch")
    from snntorch import utils

    from neurosim.io.frameworks import to_snntorch

    rng = np.random.default_rng(5)
    n_in, n_h, n_out, steps = 10, 16, 5, 150
    x = (rng.random((steps, n_in)) < 0.3).astype(np.float32)
    t, i = np.nonzero(x)
    net = ns.Network(seed=1)
    net.spike_train("input", n_in, (t + 1) * DT, i)  # framework step t: neurosim step t
    tau1, tau2 = rng.uniform(0.2, 1.0, n_h), rng.uniform(0.2, 1.0, n_out)
    # V <- beta V + W s + b with beta = 1 - dt/tau_m; biases start with the layers' first step
    net.population("hidden", "nir_lif", n_h, tau_m=tau1, R=tau1 / DT, V_th=1.0,
                   I_bias=rng.normal(0.0, 0.1, n_h), t_bias=DT)
    net.population("out", "nir_lif", n_out, tau_m=tau2, R=tau2 / DT, V_th=0.8,
                   I_bias=rng.normal(0.0, 0.1, n_out), t_bias=2 * DT)
    _dense(net, "input", "hidden", rng.normal(0.3, 0.6, (n_h, n_in)))
    _dense(net, "hidden", "out", rng.normal(0.3, 0.6, (n_out, n_h)))
    net.spike_monitor("out")
    sim = net.compile(DT)
    sim.run((steps + 2) * DT)
    k, idx = sim.spike_steps("out")
    want = np.zeros((steps, n_out))
    np.add.at(want, (k - 3, idx), 1.0)  # framework step t = neurosim step t + 2, stamp t + 3
    model = to_snntorch(sim)
    utils.reset(model)
    with torch.no_grad():
        got = np.array([model(torch.as_tensor(x[t:t + 1]))[0][0].numpy()
                        for t in range(steps)])
    assert want.sum() > 100
    np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- SpikingJelly
def _sj_net(torch, layer, neuron, seed=1):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        layer.Linear(12, 20), neuron.LIFNode(tau=2.0, decay_input=False, v_reset=0.0),
        layer.Linear(20, 6), neuron.LIFNode(tau=3.0, decay_input=False, v_reset=0.0))
    with torch.no_grad():
        net[0].weight.mul_(2.0).add_(0.1)
        net[2].weight.mul_(2.0).add_(0.1)
    return net


def test_spikingjelly_model_spikes_identically_in_neurosim():
    torch = pytest.importorskip("torch")
    pytest.importorskip("spikingjelly.activation_based.nir_exchange")
    from spikingjelly.activation_based import functional, layer, neuron

    from neurosim.io.frameworks import from_spikingjelly

    net = _sj_net(torch, layer, neuron)
    x = (np.random.default_rng(6).random((150, 12)) < 0.3).astype(np.float32)
    functional.reset_net(net)
    with torch.no_grad():
        want = np.array([net(torch.as_tensor(x[t:t + 1]))[0].numpy() for t in range(150)])
    r = from_spikingjelly(net, torch.rand(1, 12))
    (name,) = r.inputs
    got = r.run({name: x})["output"]
    assert want.sum() > 50
    np.testing.assert_array_equal(got, want)
    out_pop = r.network.pops[r.outputs["output"]]
    assert out_pop.params["threshold_ge"] == 1.0  # SpikingJelly fires on V >= V_th


def test_neurosim_network_spikes_identically_in_spikingjelly():
    torch = pytest.importorskip("torch")
    pytest.importorskip("spikingjelly.activation_based.nir_exchange")
    from spikingjelly.activation_based import layer, neuron

    from neurosim.io.frameworks import from_spikingjelly, to_spikingjelly

    r = from_spikingjelly(_sj_net(torch, layer, neuron, seed=3), torch.rand(1, 12))
    x = (np.random.default_rng(7).random((150, 12)) < 0.3).astype(np.float32)
    (name,) = r.inputs
    want = r.run({name: x})["output"]
    model = to_spikingjelly(r.network)
    state, got = None, []
    with torch.no_grad():
        for t in range(150):
            out, state = model(torch.as_tensor(x[t:t + 1]), state)
            got.append(out[0].numpy())
    assert want.sum() > 50
    np.testing.assert_array_equal(np.array(got), want)


# ---------------------------------------------------------------------- convolutions
@pytest.mark.parametrize("cin, cout, k, stride, pad, dil, groups, size", [
    (2, 4, 3, 1, 1, 1, 1, (7, 6)),
    (4, 6, (3, 2), 2, 0, 1, 2, (9, 8)),
    (3, 3, 3, 1, "same", 2, 3, (6, 6)),
])
def test_conv_and_pooling_are_pytorchs(cin, cout, k, stride, pad, dil, groups, size):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    ks = (k, k) if isinstance(k, int) else k
    w, b = rng.normal(size=(cout, cin // groups, *ks)), rng.normal(size=cout)
    node = nir.Conv2d(input_shape=size, weight=w, stride=stride, padding=pad, dilation=dil,
                      groups=groups, bias=b)
    _, out_shape, mat, bias = nio._conv(node, "c", build=True)
    x = rng.normal(size=(cin, *size))
    want = F.conv2d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride=stride,
                    padding=pad, dilation=dil, groups=groups)[0].numpy()
    assert out_shape == want.shape
    np.testing.assert_allclose(mat @ x.ravel() + bias, want.ravel(), rtol=0, atol=1e-12)
    pool = nir.AvgPool2d(kernel_size=np.array([2, 3]), stride=np.array([2, 2]),
                         padding=np.array([1, 0]))
    pool.input_type = {"input": np.array([cin, *size])}
    _, out_shape, mat, _ = nio._conv(pool, "p", build=True)
    want = F.avg_pool2d(torch.tensor(x)[None], (2, 3), (2, 2), (1, 0))[0].numpy()
    np.testing.assert_allclose(mat @ x.ravel(), want.ravel(), rtol=0, atol=1e-12)


def test_spikingjelly_conv_model_spikes_identically_in_neurosim():
    torch = pytest.importorskip("torch")
    pytest.importorskip("spikingjelly.activation_based.nir_exchange")
    from spikingjelly.activation_based import functional, layer, neuron

    from neurosim.io.frameworks import from_spikingjelly

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        layer.Conv2d(2, 4, 3, padding=1), neuron.LIFNode(tau=2.0, decay_input=False, v_reset=0.0),
        layer.AvgPool2d(2), layer.Flatten(), layer.Linear(36, 5),
        neuron.LIFNode(tau=2.0, decay_input=False, v_reset=0.0))
    with torch.no_grad():
        net[0].weight.mul_(2.0).add_(0.1)
        net[4].weight.mul_(3.0).add_(0.2)
    x = (np.random.default_rng(1).random((100, 2, 6, 6)) < 0.3).astype(np.float32)
    functional.reset_net(net)
    with torch.no_grad():
        want = np.array([net(torch.as_tensor(x[t:t + 1]))[0].numpy() for t in range(100)])
    r = from_spikingjelly(net, torch.rand(1, 2, 6, 6))
    assert {type(n).__name__ for n in r.network.pops.values()} == {"SpikeTrain", "Population"}
    (name,) = r.inputs
    got = r.run({name: x})["output"]
    assert want.sum() > 100
    np.testing.assert_array_equal(got, want)
    # the convolution comes back from neurosim as a dense Affine node, with the same spikes
    graph = nio.write(r.network)
    assert {type(n).__name__ for n in graph.nodes.values()} == {"Input", "Affine", "LIF",
                                                                 "Output"}
    _assert_same(r.network, nio.read(graph).network, duration=10.0)
