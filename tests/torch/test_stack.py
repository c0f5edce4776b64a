"""NeuronLayer and the feed-forward SpikingMLP against the event-driven engine.

A 2-layer stack with random weights on random input spike trains: the torch forward and the
engine network from ``to_network`` give identical spikes in every layer, step for step; a
network built in neurosim converts back with ``from_network``; the one-step delay per Linear
layer is pinned with single spikes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neurosim as ns  # noqa: E402
from neurosim.torch import (  # noqa: E402
    NeuronLayer,
    SpikingMLP,
    engine_raster,
    raster_to_times,
)

TRAINABLE = [n for n in ns.model_names() if ns.get_model(n).trainable]
DT = 1.0
T, B, SIZES = 100, 2, (12, 10, 6)


def _psp(model, dt):
    """Peak |dV| (mV) of one unit weight on the first port: pA -> mV for psc_exp, 1 for delta."""
    layer = NeuronLayer(model, 1, dt, dtype=torch.float64)
    state = layer.initial_state(1)
    v0, peak = state[0].item(), 0.0
    for k in range(200):
        _, state = layer(torch.full((1, 1), 1.0 if k == 0 else 0.0, dtype=torch.float64), state)
        peak = max(peak, abs(state[0].item() - v0))
    return peak


def _stack(model, dtype=torch.float64, seed=0, **kw):
    """A stack with random weights giving PSPs of -3..6 mV per input spike."""
    torch.manual_seed(seed)
    stack = SpikingMLP(SIZES, model, DT, dtype=dtype, **kw)
    w0 = 6.0 / _psp(model, DT)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for lin in stack.linears:
            lin.weight.copy_((torch.rand(lin.weight.shape, generator=gen) * 1.5 - 0.5) * w0)
    return stack


def _inputs(seed=1, p=0.25):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand((T, B, SIZES[0]), generator=gen) < p).double()


def _engine(stack, x_b, v_monitor=False):
    net = stack.to_network(x_b.numpy())
    if v_monitor:
        net.state_monitor("layer2", "V_m")
    sim = net.compile(dt=stack.dt)
    sim.run(T * stack.dt)
    return sim


@pytest.mark.parametrize("model", TRAINABLE)
def test_stack_float64_equals_engine(model):
    stack = _stack(model)
    x = _inputs()
    with torch.no_grad():
        out = stack(x)
    assert out.spikes.shape == (T, B, SIZES[-1]) and out.v.shape == (T, B, SIZES[-1])
    for b in range(B):
        sim = _engine(stack, x[:, b], v_monitor=True)
        for l, name in enumerate(["layer1", "layer2"]):
            np.testing.assert_array_equal(engine_raster(sim, name, T), out.layers[l][:, b])
        _, v = sim.state("layer2", "V_m")
        np.testing.assert_allclose(out.v[:, b].numpy(), v, rtol=1e-12, atol=1e-12)
    # the comparison is not vacuous: both layers fire, and not always
    for s in out.layers:
        assert 0.02 < s.mean().item() < 0.5
        assert (s.sum(dim=(0, 1)) > 0).sum() >= s.shape[-1] // 2


def test_stack_float32_equals_engine():
    """float32 stack (weights written to the engine exactly): the same spikes here; in
    general a spike can differ where V lands within float32 round-off of threshold."""
    stack = _stack("iaf_psc_exp", dtype=torch.float32)
    x = _inputs(seed=2)
    with torch.no_grad():
        out = stack(x.float())
    for b in range(B):
        sim = _engine(stack, x[:, b])
        for l, name in enumerate(["layer1", "layer2"]):
            np.testing.assert_array_equal(engine_raster(sim, name, T), out.layers[l][:, b])


def test_learned_threshold_goes_to_the_engine():
    stack = _stack("alif_psc_exp", learn=("V_th",))
    with torch.no_grad():
        stack.neurons[0].learned["V_th"].fill_(-57.25)
        stack.neurons[1].learned["V_th"].fill_(-53.5)
    net = stack.to_network(_inputs()[:, 0].numpy())
    assert net.pops["layer1"].params["V_th"] == -57.25
    assert net.pops["layer2"].params["V_th"] == -53.5
    x = _inputs()
    with torch.no_grad():
        out = stack(x)
    sim = _engine(stack, x[:, 0])
    for l, name in enumerate(["layer1", "layer2"]):
        np.testing.assert_array_equal(engine_raster(sim, name, T), out.layers[l][:, 0])


def test_from_network_round_trip():
    stack = _stack("iaf_psc_exp", params={"tau_m": 15.0, "t_ref": 3.0})
    net = stack.to_network()
    back = SpikingMLP.from_network(net, ["input", "layer1", "layer2"], DT, dtype=torch.float64)
    for a, b in zip(stack.linears, back.linears, strict=True):
        torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    assert back.neurons[0].model_params() == stack.neurons[0].model_params()
    x = _inputs(seed=3)
    with torch.no_grad():
        torch.testing.assert_close(back(x).spikes, stack(x).spikes, rtol=0, atol=0)


def test_from_network_builds_rules_like_the_engine():
    """A net written in neurosim with random sparse connectivity: the dense weights are the
    engine's synapses, and the stack reproduces the engine's spikes."""
    net = ns.Network(seed=4)
    rng = np.random.default_rng(4)
    fired = rng.random((T, 12)) < 0.3
    times, idx = raster_to_times(fired, DT)
    net.spike_train("src", 12, times=times, indices=idx)
    net.population("h", "iaf_psc_delta", 10, t_ref=2.0)
    net.population("o", "iaf_psc_delta", 4)
    net.connect("src", "h", ns.fixed_prob(0.6), weight=ns.Uniform(-2.0, 7.0), delay=DT)
    net.connect("h", "o", ns.fixed_indegree(5), weight=ns.Uniform(0.0, 9.0), delay=DT,
                port="inh")
    net.spike_monitor("h")
    net.spike_monitor("o")
    stack = SpikingMLP.from_network(net, ["src", "h", "o"], DT, dtype=torch.float64)
    assert stack.ports == ["exc", "inh"]
    sim = net.compile(dt=DT)
    np.testing.assert_array_equal(stack.linears[0].weight.detach().numpy() != 0,
                                  _dense_mask(sim.projection("src_to_h"), 10, 12))
    sim.run(T * DT)
    with torch.no_grad():
        out = stack(torch.from_numpy(fired[:, None, :].astype(np.float64)))
    for l, name in enumerate(["h", "o"]):
        np.testing.assert_array_equal(engine_raster(sim, name, T), out.layers[l][:, 0])
    assert out.layers[1].sum() > 0


def _dense_mask(csr, n_post, n_pre):
    m = np.zeros((n_post, n_pre), bool)
    m[csr.post, csr.pre()] = True
    return m


def test_from_network_rejects_what_a_stack_cannot_do():
    net = ns.Network(seed=0)
    net.spike_train("src", 3, times=[1.0], indices=[0])
    net.population("a", "iaf_psc_exp", 2)
    net.population("b", "iaf_psc_exp", 2)
    net.connect("src", "a", ns.all_to_all(), weight=1.0, delay=2 * DT)
    with pytest.raises(ns.ConfigError, match="delay"):
        SpikingMLP.from_network(net, ["src", "a"], DT)
    net.connect("src", "b", ns.all_to_all(), weight=1.0, delay=DT)
    with pytest.raises(ns.ConfigError, match="may only receive"):
        SpikingMLP.from_network(net, ["src", "a", "b"], DT)
    net2 = ns.Network(seed=0)
    net2.spike_train("src", 3, times=[1.0], indices=[0])
    net2.population("z", "izhikevich", 2)
    with pytest.raises(ns.ConfigError, match="not trainable"):
        SpikingMLP.from_network(net2, ["src", "z"], DT)


@pytest.mark.parametrize("model,latency", [("iaf_psc_delta", (1, 2)), ("iaf_psc_exp", (2, 4))])
def test_one_step_delay_per_layer(model, latency):
    """One input spike in step k, weights far above threshold: psc_delta layers fire in steps
    k + 1 and k + 2 (one step per projection); psc_exp adds a step per layer (the current
    moves V one step after it arrives): k + 2, k + 4. Torch and engine alike. (A long t_ref
    keeps each unit to one spike.)"""
    stack = SpikingMLP((1, 1, 1), model, DT, {"t_ref": 30.0}, dtype=torch.float64)
    with torch.no_grad():
        for lin in stack.linears:
            lin.weight.fill_(1e2 / _psp(model, DT))
    x = torch.zeros((20, 1, 1), dtype=torch.float64)
    k = 5
    x[k] = 1.0
    with torch.no_grad():
        out = stack(x)
    sim = _engine_T(stack, x[:, 0], 20)
    for l, name in enumerate(["layer1", "layer2"]):
        fired = np.flatnonzero(out.layers[l][:, 0, 0].numpy())
        assert fired.tolist() == [k + latency[l]]
        np.testing.assert_array_equal(engine_raster(sim, name, 20), out.layers[l][:, 0])


def _engine_T(stack, x_b, steps):
    sim = stack.to_network(x_b.numpy()).compile(dt=stack.dt)
    sim.run(steps * stack.dt)
    return sim


def test_gradients_flow_to_weights_and_thresholds():
    stack = _stack("iaf_psc_exp", dtype=torch.float32, learn=("V_th",), scale=0.5)
    out = stack(_inputs().float())
    loss = out.spikes.sum() + out.v.mean()
    loss.backward()
    for p in stack.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
    # detaching the reset changes gradients, never the forward pass
    det = _stack("iaf_psc_exp", dtype=torch.float32, learn=("V_th",), scale=0.5,
                 detach_reset=True)
    out2 = det(_inputs().float())
    torch.testing.assert_close(out2.spikes, out.spikes, rtol=0, atol=0)
    (out2.spikes.sum() + out2.v.mean()).backward()
    assert not torch.equal(det.linears[0].weight.grad, stack.linears[0].weight.grad)


def test_neuron_layer_interface_and_errors():
    layer = NeuronLayer("alif_psc_exp", 5, 0.5, {"V_th": -50.0}, "triangle")
    assert layer.state_names == ("V_m", "I_syn_ex", "I_syn_in", "refractory", "a")
    state = layer.initial_state(3)
    assert [tuple(s.shape) for s in state] == [(3, 5)] * 5 and state[0][0, 0].item() == -70.0
    big = torch.full((3, 5), 1e5)
    s1, st1 = layer({"exc": big}, state)
    s2, st2 = layer(big)  # one tensor: the first port; state None: the initial state
    s3, st3 = layer((big, None), state)
    for a, b in [(st1, st2), (st1, st3)]:
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert layer.model_params()["V_th"] == -50.0
    with pytest.raises(ns.ConfigError, match="not a port"):
        layer({"ampa": big}, state)
    with pytest.raises(ns.ConfigError, match="one per port"):
        layer((big,), state)
    with pytest.raises(ns.ConfigError, match="not passed unchanged"):
        NeuronLayer("iaf_psc_exp", 2, 0.1, learn=("tau_m",))
    spec = ns.get_model("iaf_psc_exp")  # a variant whose V_reset follows V_th (unregistered)
    coupled = dataclasses.replace(spec, name="coupled", derive=lambda p, dt: tuple(
        p["V_th"] - 15.0 if n == "V_reset" else c
        for n, c in zip(spec.coef_names, spec.derive(p, dt), strict=True)))
    assert NeuronLayer(coupled, 2, 0.1, learn=("I_e",)).learn == ("I_e",)
    with pytest.raises(ns.ConfigError, match="enters other coefficients"):
        NeuronLayer(coupled, 2, 0.1, learn=("V_th",))
    with pytest.raises(ns.ConfigError, match="not a parameter"):
        NeuronLayer("iaf_psc_exp", 2, 0.1, {"tau": 3.0})
    with pytest.raises(ns.ConfigError, match="not trainable"):
        NeuronLayer("izhikevich", 2, 0.1)
    with pytest.raises(ns.ConfigError, match="port"):
        SpikingMLP((2, 2), "iaf_psc_exp", port="ampa")
    with pytest.raises(ns.ConfigError, match=r"\(T, batch, 2\)"):
        SpikingMLP((2, 2))(torch.zeros(3, 2))


def test_raster_conversions():
    x = np.array([[0, 2], [1, 0], [0, 0]])
    times, idx = raster_to_times(x, 0.5)
    assert times.tolist() == [0.5, 0.5, 1.0] and idx.tolist() == [1, 1, 0]
    with pytest.raises(ns.ConfigError, match="integer"):
        raster_to_times(np.array([[0.5]]), 1.0)


def _recurrent_stack(model, seed=0):
    """The hidden layer recurrent, with mixed-sign recurrent weights (PSPs -4..2 mV)."""
    stack = _stack(model, seed=seed, recurrent=[True, False])
    w0 = 6.0 / _psp(model, DT)
    gen = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        rec = stack.recurrents["0"]
        rec.weight.copy_((torch.rand(rec.weight.shape, generator=gen) - 0.65) * w0)
    return stack


@pytest.mark.parametrize("model", TRAINABLE)
def test_recurrent_stack_equals_engine(model):
    """A recurrent layer is a one-step self-projection (autapses included) in the engine:
    the same spikes in both, in every layer, and the recurrence changes them."""
    stack = _recurrent_stack(model)
    x = _inputs(seed=4)
    with torch.no_grad():
        out = stack(x)
        plain = _stack(model)(x)
    for b in range(B):
        net = stack.to_network(x[:, b].numpy())
        assert net.projections["layer1_rec"].pre == net.projections["layer1_rec"].post
        sim = net.compile(dt=stack.dt).run(T * stack.dt)
        for l, name in enumerate(["layer1", "layer2"]):
            np.testing.assert_array_equal(engine_raster(sim, name, T), out.layers[l][:, b])
    assert not torch.equal(out.layers[0], plain.layers[0])
    assert 0.02 < out.layers[0].mean().item() < 0.5


def test_recurrent_from_network_round_trip():
    stack = _recurrent_stack("iaf_psc_delta")
    back = SpikingMLP.from_network(stack.to_network(), ["input", "layer1", "layer2"], DT,
                                   dtype=torch.float64)
    assert set(back.recurrents) == {"0"}
    torch.testing.assert_close(back.recurrents["0"].weight, stack.recurrents["0"].weight,
                               rtol=0, atol=0)
    x = _inputs(seed=5)
    with torch.no_grad():
        torch.testing.assert_close(back(x).spikes, stack(x).spikes, rtol=0, atol=0)
