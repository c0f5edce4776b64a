"""Weights that jump straight into the targets' state (``NeuronSpec.jumps``) give the numbers
of the ring buffer: bit for bit where a unit takes at most one event per port and step, to
round-off where several events of one step are summed in another order; and only the
projections that can skip the ring do."""

import dataclasses

import numpy as np
import pytest

import neurosim as ns
from neurosim.models.networks import cuba
from neurosim.population import Population
from neurosim.registry import get
from neurosim.simulation import MAX_JUMP_DELAY

DT = 0.1
#: per model: the drive that makes it fire regularly, and the (exc, inh) weights
MODELS = {
    "iaf_psc_exp": (dict(I_e=500.0), 300.0, -200.0),
    "alif_psc_exp": (dict(I_e=500.0, tau_a=50.0, q_a=1.0), 300.0, -200.0),
    "lif_cond_exp": (dict(I_e=400.0), 20.0, 10.0),
}


def ring_only(model: str):
    """The same model without its jumps declaration: every input goes through the ring."""
    spec = get(model)
    return dataclasses.replace(spec, name=spec.name + "_ring", jumps=())


def two_layer(model, n=40, seed=3, mixed=False, d_exc=1, d_inh=1):
    """Drivers firing at random phases -> targets, one event per target, port and step
    (one-to-one excitation with a delay of ``d_exc`` steps, inhibition from the neighbour,
    ``d_inh``); ``mixed`` adds a projection with delays of 2 and 3 steps, which goes through
    the ring."""
    values, w_exc, w_inh = MODELS[model]
    net = ns.Network(seed=seed)
    v0 = ns.Uniform(-70.0, -56.0)
    net.population("d", model, n, V_m=v0, **values)
    net.population("t", model, n, V_m=v0, **values)
    net.connect("d", "t", ns.one_to_one(), weight=w_exc, delay=d_exc * DT, port="exc")
    net.connect("d", "t", ns.arrays(np.arange(n), (np.arange(n) + 1) % n), weight=w_inh,
                delay=d_inh * DT, port="inh")
    if mixed:
        net.connect("d", "t", ns.one_to_one(), weight=0.5 * w_exc,
                    delay=np.where(np.arange(n) % 2, 2, 3) * DT, port="exc")
    for p in ("d", "t"):
        net.spike_monitor(p)
    net.state_monitor("t", "V_m")
    return net


def with_spec(net, spec):
    """The network with every population running ``spec`` (same parameters and seeds)."""
    for pop in net.pops.values():
        if isinstance(pop, Population):
            pop.spec = spec
    return net


def run(net, threads=1, pieces=1, T=210.0):
    sim = net.compile(dt=DT, threads=threads)
    for _ in range(pieces):
        sim.run(T / pieces, chunk=7.3)
    return sim


def assert_same(a, b, state):
    for p in ("d", "t"):
        for x, y in zip(a.spike_steps(p), b.spike_steps(p), strict=True):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.state("t", "V_m")[1], b.state("t", "V_m")[1])
    for var in state:
        np.testing.assert_array_equal(a.get("t", var), b.get("t", var))


@pytest.mark.parametrize("model,threads,pieces,d_exc,d_inh", [
    ("iaf_psc_exp", 1, 1, 1, 1), ("iaf_psc_exp", 2, 3, 7, 2)] + [
    (m, 2, 3, 1, 1) for m in sorted(MODELS)])  # threads and runs in pieces: the harder case
def test_jumps_equal_the_ring_bit_for_bit(model, threads, pieces, d_exc, d_inh, force_split):
    jumps = run(two_layer(model, d_exc=d_exc, d_inh=d_inh), threads, pieces)
    ring = run(with_spec(two_layer(model, d_exc=d_exc, d_inh=d_inh), ring_only(model)),
               threads, pieces)
    assert jumps.structure.jumps == [(0, 1, d_exc), (1, 2, d_inh)]
    assert jumps.structure.depth == max(3, d_exc + 1) and ring.structure.jumps == []
    assert jumps.structure.ringless == [0, 1] and ring.structure.ringless == []
    assert jumps._pops["t"].ring.size == 0
    assert len(jumps.spike_steps("t")[0]) > 100  # the targets do fire
    assert_same(jumps, ring, get(model).state_names)


def test_jumps_and_ring_on_one_port(force_split):
    """A projection with delays of 2 and 3 steps onto the same port keeps the ring; where
    its input and a jump land on one unit in one step the two sums differ in the last bits
    only."""
    a = run(two_layer("iaf_psc_exp", mixed=True), threads=2, pieces=2)
    b = run(with_spec(two_layer("iaf_psc_exp", mixed=True), ring_only("iaf_psc_exp")),
            threads=2, pieces=2)
    assert [j for j, _, _ in a.structure.jumps] == [0, 1] and a.structure.ringless == [0]
    assert a._pops["t"].ring.shape == (4, 2, 40)
    for p in ("d", "t"):
        for x, y in zip(a.spike_steps(p), b.spike_steps(p), strict=True):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(a.state("t", "V_m")[1], b.state("t", "V_m")[1], rtol=0,
                               atol=1e-9)


def test_cuba_jumps_agree_with_the_ring():
    """CUBA (one-step delays, so every projection jumps): for 30 ms, before round-off can
    grow through the network's chaos, the same spikes as through the ring, and the currents
    to round-off."""
    a = cuba.build(2000, seed=5).compile(dt=DT).run(30.0)
    b = with_spec(cuba.build(2000, seed=5), ring_only("iaf_psc_exp")).compile(dt=DT)
    b.run(30.0)
    assert len(a.structure.jumps) == 4 and b.structure.jumps == []
    for p in ("exc", "inh"):
        for x, y in zip(a.spike_steps(p), b.spike_steps(p), strict=True):
            np.testing.assert_array_equal(x, y)
        for var in ("V_m", "I_syn_ex", "I_syn_in"):
            np.testing.assert_allclose(a.get(p, var), b.get(p, var), rtol=1e-12, atol=1e-9)
    assert a.memory_bytes()["ring"] == 0 < b.memory_bytes()["ring"]


def test_which_projections_jump():
    """Only static projections with one delay (up to MAX_JUMP_DELAY steps) from neuron
    populations onto models with jumps skip the ring; sources, mixed or longer delays,
    plastic synapses and models without jumps use it."""
    net = ns.Network(seed=0)
    net.spike_train("src", 5, times=[1.0], indices=[0])
    net.population("a", "iaf_psc_exp", 5)
    net.population("b", "iaf_psc_exp", 5)
    net.population("c", "iaf_psc_delta", 5)
    net.population("e", "lif_cond_exp", 5)
    net.connect("src", "a", ns.one_to_one(), weight=1.0, delay=DT)        # 0: source
    net.connect("a", "b", ns.one_to_one(), weight=1.0, delay=DT)          # 1: jumps
    net.connect("a", "b", ns.one_to_one(), weight=-1.0, delay=5 * DT, port="inh")  # 2: jumps
    net.connect("a", "a", ns.one_to_one(), weight=1.0, delay=[DT, 2 * DT, DT, DT, DT])  # 3
    net.connect("b", "a", ns.one_to_one(), weight=1.0, delay=DT,
                plasticity=ns.Plasticity("stdp"))                         # 4: plastic
    net.connect("a", "c", ns.one_to_one(), weight=1.0, delay=DT)          # 5: no jumps
    net.connect("a", "e", ns.one_to_one(), weight=1.0, delay=[DT, DT, DT, DT, DT])  # 6
    net.connect("b", "e", ns.one_to_one(), weight=1.0, port="inh",
                delay=(MAX_JUMP_DELAY + 1) * DT)                          # 7: too long
    sim = net.compile(dt=DT)
    # rows: I_syn_ex (1) and I_syn_in (2) of iaf_psc_exp, g_ex (1) of lif_cond_exp
    assert sim.structure.jumps == [(1, 1, 1), (2, 2, 5), (6, 1, 1)]
    assert sim.structure.depth == 6  # spike lists kept for the 5-step jumps
    assert sim.structure.ringless == [2]  # b: all its inputs jump
    assert sim._pops["a"].ring.shape == (3, 2, 5) and sim._pops["b"].ring.size == 0
    assert sim._pops["e"].ring.shape == (MAX_JUMP_DELAY + 2, 2, 5)
    assert sim._pops["a"].spk.shape == (6, 5)
    sim.run(5.0)
