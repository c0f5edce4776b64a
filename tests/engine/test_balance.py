"""Thread shares (neurosim.balance): which chunks each thread owns, how the shares follow the
threads' speeds, and that no assignment of chunks to threads changes a result."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.balance import MIN_GAIN, Balancer, cut_units
from neurosim.errors import ConfigError
from neurosim.kernels.clock import COUNTS

DT = 0.1


def test_cut_units_follow_the_shares():
    assert cut_units(1000, np.array([0.0, 0.5, 1.0])).tolist() == [0, 496, 1000]
    assert cut_units(1000, np.array([0.0, 0.7, 1.0])).tolist() == [0, 704, 1000]
    # every range keeps at least 8 units, even with a share near 0 or 1
    assert cut_units(1000, np.array([0.0, 0.001, 1.0])).tolist() == [0, 8, 1000]
    assert cut_units(1000, np.array([0.0, 0.999, 1.0])).tolist() == [0, 992, 1000]
    assert cut_units(1000, np.array([0.0, 0.1, 0.1, 1.0])).tolist() == [0, 96, 104, 1000]
    assert cut_units(12, np.array([0.0, 0.5, 1.0])).tolist() == [0, 8, 12]
    assert cut_units(30, np.array([0.0, 0.9, 1.0])).tolist() == [0, 16, 30]  # not 22
    rng = np.random.default_rng(1)
    for _ in range(2000):  # always ranges the simulation accepts
        n, threads = int(rng.integers(1, 300)), int(rng.integers(2, 5))
        shares = np.r_[0.0, np.sort(rng.random(threads - 1)), 1.0]
        b = cut_units(n, shares)
        assert b[0] == 0 and b[-1] == n and np.all(np.diff(b) >= 0), (n, shares, b)
        assert np.all(b[1:-1] % 8 == 0), (n, shares, b)
        if n >= 8 * threads:
            assert np.all(np.diff(b) >= 8), (n, shares, b)


def test_shares_follow_the_faster_thread():
    chunks = [np.array([0, 800, 1600]), np.array([0, 200, 400]), np.array([0, 30])]
    b = Balancer(chunks, 2)
    assert b.units().tolist() == [1030, 1000]
    assert b.update(np.array([1030, 1010])) is None  # equal speeds: nothing to gain
    assert b.update(np.array([0, 0])) is None        # no counter: nothing measured
    for _ in range(8):  # thread 1 takes twice as long per unit
        u = b.units()
        new = b.update(np.array([u[0], 2.0 * u[1]]))
        if new is not None:
            for c, n in zip(chunks, new, strict=True):
                c[:] = n
    u = b.units()
    assert u[0] / u[1] == pytest.approx(2.0, rel=0.03)
    assert chunks[2].tolist() == [0, 30]  # thread 0 keeps the unsplit population
    assert b.update(np.array([u[0], 2.0 * u[1]])) is None  # balanced now: stays


def test_small_gain_is_not_worth_a_move():
    b = Balancer([np.array([0, 800, 1600])], 2)
    assert b.update(np.array([1000, 1000 * (1 + MIN_GAIN / 2)])) is None


def test_fixed_ranges_still_measure_the_spread():
    b = Balancer([np.array([0, 800, 1600])], 2)
    assert b.update(np.array([1000, 3000]), move=False) is None  # would move, but fixed
    assert b.spread == [pytest.approx(3.0)] and b.moves == 0
    assert b.update(np.array([1000, 3000])) is not None


def network(seed=11):
    """Every kind of input and output a thread touches: a Poisson source into a ring
    (mixed delays), one-step and three-step jumps, plastic projections (pre and post
    hooks), a current step, spike, state and weight monitors."""
    net = ns.Network(seed=seed)
    net.poisson("inp", 60, 30.0)
    net.population("exc", "iaf_psc_exp", 200, I_e=520.0, V_m=ns.Uniform(-70.0, -56.0))
    net.population("inh", "lif_cond_exp", 70, I_e=250.0)
    net.connect("inp", "exc", ns.fixed_prob(0.2), weight=60.0, delay=ns.Uniform(0.1, 1.5))
    net.connect("exc", "exc", ns.fixed_prob(0.1), weight=25.0, delay=0.1)
    net.connect("exc", "inh", ns.fixed_prob(0.2), weight=3.0, delay=0.3)
    net.connect("inh", "exc", ns.fixed_prob(0.2), weight=-80.0, delay=ns.Uniform(0.1, 1.0),
                port="inh")
    pl = ns.Plasticity("stdp", lambda_=0.02, alpha=1.1, w_max=8.0)
    net.connect("inp", "inh", ns.fixed_prob(0.3), weight=ns.Uniform(0.0, 8.0), delay=0.2,
                plasticity=pl, name="plastic")
    net.current("exc", [20.0, 60.0], [150.0, 0.0], indices=np.arange(0, 200, 3))
    net.spike_monitor("exc")
    net.spike_monitor("inh")
    net.state_monitor("exc", "V_m", indices=np.arange(0, 200, 7), every=3)
    net.weight_monitor("plastic", every=1.0)
    return net


def results(sim):
    return (sim.spike_steps("exc"), sim.spike_steps("inh"), sim.state("exc", "V_m"),
            sim.weights_recorded("plastic"), sim.weights("plastic"), sim.get("inh", "g_ex"))


def same(a, b):
    for x, y in zip(a, b, strict=True):
        if isinstance(x, tuple):
            same(x, y)
        else:
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_any_thread_ranges_give_the_same_numbers(force_split, n_threads):
    ref = network().compile(DT, threads=1)
    ref.run(100.0)
    sim = network().compile(DT, threads=n_threads)
    assert sim.structure.parallel and sim.structure.jumps
    sim.balance = False
    rng = np.random.default_rng(0)
    pending = 0  # moves made while kept spike lists held spikes still to jump
    for piece in (7.3, 12.1, 0.1, 0.3, 10.5, 20.0, 0.2, 9.5, 40.0):  # random ranges, some empty
        pending += sum(int(sim._pops[p].cnt.sum() > 0) for p in ("exc", "inh"))
        cuts = []
        for c in sim._balancer.chunks:
            inner = np.sort(rng.integers(0, c[-1] // 8 + 1, c.size - 2)) * 8
            cuts.append(np.r_[0, inner, c[-1]])
        sim._set_cuts(cuts)
        assert all(np.array_equal(c, x) for c, x in zip(sim._balancer.chunks, cuts,
                                                        strict=True))
        sim.run(piece, chunk=3.7)
    assert sim.t == pytest.approx(100.0) and pending >= 8
    same(results(ref), results(sim))


def test_balancing_runs_and_changes_nothing(force_split):
    ref = network().compile(DT, threads=1)
    ref.run(100.0)
    sim = network().compile(DT, threads=2)
    assert sim.balance
    sim.run(100.0, chunk=1.0)
    same(results(ref), results(sim))
    if COUNTS:  # x86: the loop counted each thread's ticks
        assert sim._balancer.speed is not None and np.all(sim._balancer.speed > 0)
        stats = sim.thread_stats  # one speed spread per call (100 calls of 1 ms), each >= 1
        assert len(stats["spread"]) == 100 and min(stats["spread"]) >= 1.0
        assert len(stats["move_s"]) == stats["moves"]
    assert sim.thread_shares.sum() == pytest.approx(1.0)
    assert sim.thread_stats["shares"] == sim.thread_shares.tolist()


def test_bad_thread_ranges_are_refused(force_split):
    sim = network().compile(DT, threads=2)
    for bad in ([0, 96, 190], [0, 101, 200], [0, 120, 80]):
        with pytest.raises(ConfigError, match="thread ranges"):
            sim._set_cuts([np.array(bad), sim._balancer.chunks[1].copy()])
