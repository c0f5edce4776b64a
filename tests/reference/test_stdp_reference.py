"""Pair STDP in the engine against the slow references of ``stdp_reference.py``.

A small recurrent network (Poisson sources -> 30 LIF neurons, plastic input and recurrent
projections with heterogeneous delays) runs 10 s; every synapse's final weight is then
recomputed from the recorded spike stamps of its two neurons. The trace-style reference does
the engine's arithmetic, so the weights must be identical; the pair-sum reference agrees to
round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
import stdp_reference as ref

import neurosim as ns

DT = 0.1

RULES = [
    ("stdp", dict(lambda_=0.02, alpha=1.1, w_max=60.0)),                       # additive
    ("stdp", dict(lambda_=0.05, alpha=0.9, mu_plus=1.0, mu_minus=1.0, w_max=60.0)),
    ("stdp", dict(lambda_=0.03, alpha=1.05, mu_plus=0.4, mu_minus=0.4, w_max=60.0,
                  tau_minus=35.0)),                                             # Gütig
    ("stdp_nn", dict(lambda_=0.02, alpha=1.2, w_max=60.0, tau_plus=15.0)),
]


def plastic_net(rule, params, seed=3, threads=1, duration=10_000.0, chunk=100.0):
    net = ns.Network(seed=seed)
    net.poisson("inp", 40, 15.0)
    net.population("out", "iaf_psc_exp", 30, I_e=376.0)
    pl = ns.Plasticity(rule, **params)
    net.connect("inp", "out", ns.fixed_prob(0.5), weight=ns.Uniform(10.0, 50.0),
                delay=ns.Uniform(0.1, 3.0), plasticity=pl, name="ff")
    net.connect("out", "out", ns.fixed_prob(0.3), weight=ns.Uniform(0.0, 30.0),
                delay=ns.Uniform(0.5, 2.0), plasticity=pl, name="rec")
    net.spike_monitor("inp")
    net.spike_monitor("out")
    sim = net.compile(dt=DT, threads=threads)
    w0 = {name: sim.weights(name) for name in ("ff", "rec")}
    sim.run(duration, chunk=chunk)
    return sim, w0


def spike_lists(sim, pop, n):
    k, i = sim.spike_steps(pop)
    return [k[i == u] for u in range(n)]


def run_case(rules, index):
    """(rule, its full parameters, the simulation after 10 s, the initial weights)."""
    rule, params = rules[index]
    sim, w0 = plastic_net(rule, params)
    return rule, ns.Plasticity(rule, **params).params, sim, w0


def assert_traces_identical(case, name, reference):
    """Every final weight of projection ``name`` equals ``reference(w0, pre spike stamps,
    post spike stamps, params, dt, nearest=)`` bit for bit (the engine's arithmetic)."""
    rule, p, sim, w0 = case
    pre_pop, n_pre = ("inp", 40) if name == "ff" else ("out", 30)
    pre_sp, post_sp = spike_lists(sim, pre_pop, n_pre), spike_lists(sim, "out", 30)
    src, tgt = sim.synapses(name)
    want = np.array([reference(w0[name][k], pre_sp[src[k]], post_sp[tgt[k]], p, DT,
                               nearest=rule.endswith("_nn")) for k in range(src.size)])
    got = sim.weights(name)
    assert pre_sp[0].size > 50 and sum(s.size for s in post_sp) > 1000
    assert np.abs(got - w0[name]).max() > 1.0  # the weights did learn
    np.testing.assert_array_equal(got, want)


def assert_pair_sums(case, reference, every=1):
    """The input weights (every ``every``-th) equal the explicit pair sums to round-off."""
    rule, p, sim, w0 = case
    pre_sp, post_sp = spike_lists(sim, "inp", 40), spike_lists(sim, "out", 30)
    src, tgt = sim.synapses("ff")
    ks = range(0, src.size, every)
    want = np.array([reference(w0["ff"][k], pre_sp[src[k]], post_sp[tgt[k]], p, DT,
                               nearest=rule.endswith("_nn")) for k in ks])
    np.testing.assert_allclose(sim.weights("ff")[ks], want, rtol=1e-9, atol=1e-9)


def assert_bounds(case):
    _, p, sim, _ = case
    for name in ("ff", "rec"):
        w = sim.weights(name)
        assert w.min() >= 0.0 and w.max() <= p["w_max"]


@pytest.fixture(scope="module", params=range(len(RULES)), ids=[
    "additive", "multiplicative", "guetig", "nearest"])
def case(request):
    return run_case(RULES, request.param)


@pytest.mark.parametrize("name", ["ff", "rec"])
def test_weights_identical_to_trace_reference(case, name):
    assert_traces_identical(case, name, ref.stdp_traces)


def test_weights_match_pair_sums(case):
    assert_pair_sums(case, ref.stdp_pairs)


def test_bounds_hold(case):
    assert_bounds(case)


@pytest.mark.usefixtures("force_split")
def test_threads_and_chunks_change_nothing():
    rule, params = RULES[0]
    a, _ = plastic_net(rule, params, duration=2000.0)
    b, _ = plastic_net(rule, params, duration=2000.0, threads=2, chunk=7.3)
    assert b.structure.parallel
    for name in ("ff", "rec"):
        np.testing.assert_array_equal(a.weights(name), b.weights(name))
    np.testing.assert_array_equal(a.spike_steps("out")[0], b.spike_steps("out")[0])


def test_run_in_pieces_equals_one_run():
    rule, params = RULES[1]
    a, _ = plastic_net(rule, params, duration=1000.0)
    b, _ = plastic_net(rule, params, duration=0.0)
    for d in (0.1, 0.2, 123.4, 376.3, 500.0):
        b.run(d, chunk=0.1 if d < 1 else 50.0)
    assert b.t == pytest.approx(1000.0)
    np.testing.assert_array_equal(a.weights("ff"), b.weights("ff"))
    np.testing.assert_array_equal(a.weights("rec"), b.weights("rec"))


@pytest.mark.parametrize("threads", [1, 2])
def test_weight_monitor_samples_hold_every_event_up_to_their_time(tmp_path, threads,
                                                                   force_split):
    rule, params = RULES[0]
    p = ns.Plasticity(rule, **params).params
    net = ns.Network(seed=5)
    net.poisson("inp", 40, 15.0)
    net.population("out", "iaf_psc_exp", 30, I_e=376.0)
    net.connect("inp", "out", ns.fixed_prob(0.5), weight=ns.Uniform(10.0, 50.0), delay=1.0,
                plasticity=ns.Plasticity(rule, **params), name="ff")
    net.spike_monitor("inp")
    net.spike_monitor("out")
    watch = np.array([3, 100, 17, 250])
    net.weight_monitor("ff", indices=watch, every=25.0)
    sim = net.compile(dt=DT, threads=threads)
    w0 = sim.weights("ff")
    sim.run(150.0, chunk=40.0)
    with sim.record(tmp_path / "w.h5"):
        sim.run(150.0, chunk=33.3)
    t, w = sim.weights_recorded("ff")
    np.testing.assert_allclose(t, np.arange(1, 13) * 25.0)
    pre_sp, post_sp = spike_lists(sim, "inp", 40), spike_lists(sim, "out", 30)
    src, tgt = sim.synapses("ff")
    for row, T in enumerate(np.rint(t / DT).astype(int)):
        for col, k in enumerate(watch):
            a, b = pre_sp[src[k]], post_sp[tgt[k]]
            assert w[row, col] == ref.stdp_traces(w0[k], a[a <= T], b[b <= T], p, DT)
    res = ns.io.load(tmp_path / "w.h5")
    tf, wf, pre, post = res.weights("ff")
    np.testing.assert_array_equal(wf, w[6:])
    np.testing.assert_array_equal(pre, src[watch])
    np.testing.assert_array_equal(post, tgt[watch])
    assert len(np.unique(w[:, 1])) > 3  # the watched weights moved
