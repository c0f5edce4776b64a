"""Integer-exact event timing: a spike sent in step s through a delay of d steps is
consumed in step s + d, for heterogeneous delays, across ring-buffer wrap-around and run
chunk boundaries, from sources and from neurons, serial and threaded."""

import numpy as np
import pytest

import neurosim as ns

DT = 0.1


def _relay_net(rng, n_src, delays_steps, threads_chunk=None):
    """Sources -> iaf_psc_delta relays, one synapse each, weight far above threshold.

    A delta input consumed in step k fires the relay in step k: stamp k + 1.
    """
    net = ns.Network(seed=3)
    times = rng.integers(1, 400, size=n_src) * DT  # stamps 1..399
    net.spike_train("src", n_src, times=times, indices=np.arange(n_src))
    net.population("relay", "iaf_psc_delta", n_src, t_ref=0.0)
    net.connect("src", "relay", ns.one_to_one(), weight=100.0, delay=delays_steps * DT)
    net.spike_monitor("src")
    net.spike_monitor("relay")
    return net, np.round(times / DT).astype(int)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk", [100.0, 1.7])
def test_heterogeneous_delays_arrive_exactly(threads, chunk, force_split):
    rng = np.random.default_rng(0)
    n = 300
    d = rng.integers(1, 250, size=n)  # ring of 250 slots wraps many times
    net, stamps = _relay_net(rng, n, d)
    sim = net.compile(dt=DT, threads=threads)
    assert sim.structure.parallel == (threads > 1)
    sim.run(80.0, chunk=chunk)
    st, ids = sim.spike_steps("relay")
    order = np.argsort(ids)
    np.testing.assert_array_equal(ids[order], np.arange(n))
    # source stamp T = s + 1 (emitted in step s) -> consumed in s + d -> relay stamp s + d + 1
    np.testing.assert_array_equal(st[order], stamps + d)
    src_st, src_ids = sim.spike_steps("src")
    np.testing.assert_array_equal(np.sort(src_st), np.sort(stamps))


def test_neuron_to_neuron_chain_delays():
    """A chain of relays with delays d1..dk: the last one fires at the sum of the delays."""
    delays = [1, 7, 30, 2, 113]
    net = ns.Network(seed=0)
    net.spike_train("src", 1, times=[0.5], indices=[0])
    prev = "src"
    for j, d in enumerate(delays):
        net.population(f"r{j}", "iaf_psc_delta", 1, t_ref=0.0)
        net.connect(prev, f"r{j}", ns.one_to_one(), weight=50.0, delay=d * DT)
        net.spike_monitor(f"r{j}")
        prev = f"r{j}"
    sim = net.compile(dt=DT)
    sim.run(30.0)
    stamp = 5
    for j, d in enumerate(delays):
        stamp += d
        np.testing.assert_array_equal(sim.spike_steps(f"r{j}")[0], [stamp])


def test_psc_exp_input_moves_v_one_step_later():
    """iaf_psc_exp (NEST order): input consumed in step k jumps I_syn in step k and V first
    changes in step k + 1."""
    net = ns.Network(seed=0)
    net.spike_train("src", 1, times=[1.0], indices=[0])
    net.population("n", "iaf_psc_exp", 1)
    net.connect("src", "n", ns.one_to_one(), weight=100.0, delay=0.3)
    net.state_monitor("n", "V_m")
    net.state_monitor("n", "I_syn_ex")
    sim = net.compile(dt=DT)
    sim.run(3.0)
    _, i_syn = sim.state("n", "I_syn_ex")
    _, v = sim.state("n", "V_m")
    first_i = np.flatnonzero(i_syn[:, 0])[0] + 1  # stamp
    first_v = np.flatnonzero(v[:, 0] != -70.0)[0] + 1
    assert first_i == 10 + 3 and first_v == first_i + 1


def test_multiple_synapses_same_pair_sum():
    """Two synapses between the same pair (multapses) with different delays both arrive."""
    net = ns.Network(seed=0)
    net.spike_train("src", 1, times=[1.0], indices=[0])
    net.population("n", "iaf_psc_delta", 1)
    net.connect("src", "n", ns.arrays([0, 0, 0], [0, 0, 0]), weight=[1.0, 2.0, 4.0],
                delay=np.array([2, 5, 5]) * DT)
    net.state_monitor("n", "V_m")
    sim = net.compile(dt=DT)
    sim.run(2.0)
    _, v = sim.state("n", "V_m")
    jumps = np.diff(np.concatenate([[-70.0], v[:, 0]]))
    big = np.flatnonzero(jumps > 0.5) + 1
    np.testing.assert_array_equal(big, [12, 15])
    assert jumps[11] > 0.99 and jumps[14] > 5.9  # 1 mV, then 2 + 4 mV (minus a little decay)
