"""Same seed, same spikes (bit for bit); threads change nothing; values never recompile."""

import numpy as np
import pytest

import neurosim as ns
from neurosim import codegen
from neurosim.models.networks import cuba


def _spikes(sim):
    return [sim.spike_steps(p) for p in ("exc", "inh")]


def _same(a, b):
    return all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
               for x, y in zip(a, b, strict=True))


def test_same_seed_same_spikes_and_threads_agree(force_split):
    runs = []
    for threads in (1, 1, 2):
        sim = cuba.build(2000, seed=7).compile(dt=0.1, threads=threads)
        assert sim.structure.parallel == (threads > 1)
        sim.run(300.0)
        runs.append(_spikes(sim))
    assert sum(len(s[0]) for s in runs[0]) > 1000
    assert _same(runs[0], runs[1])
    assert _same(runs[0], runs[2])  # two threads: bit-identical spikes


def test_other_seed_other_spikes():
    a = cuba.build(1000, seed=1).compile().run(200.0)
    b = cuba.build(1000, seed=2).compile().run(200.0)
    assert not _same(_spikes(a), _spikes(b))


def test_chunking_does_not_change_results():
    a = cuba.build(1000, seed=3).compile().run(300.0, chunk=100.0)
    b = cuba.build(1000, seed=3).compile().run(300.0, chunk=7.3)
    c = cuba.build(1000, seed=3).compile()
    for _ in range(3):
        c.run(100.0)
    assert _same(_spikes(a), _spikes(b)) and _same(_spikes(a), _spikes(c))


def test_poisson_is_seeded_and_has_right_rate(force_split):
    def run(seed, threads=1):
        net = ns.Network(seed=seed)
        net.poisson("p", 500, rate=40.0)
        net.spike_monitor("p")
        return net.compile(dt=0.1, threads=threads).run(2000.0).spike_steps("p")

    a, b, c = run(5), run(5, threads=2), run(6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    # Bernoulli(p = rate dt) per step: 500 units x 20000 steps x 0.004
    n = a[0].size
    assert abs(n - 40000) < 4 * np.sqrt(40000)
    # at most one spike per unit per step; the stamps of each unit are strictly increasing
    key = a[1].astype(np.int64) * 10**6 + a[0]
    assert np.unique(key).size == n
    # independent Bernoulli steps: counts per unit are Binomial(20000, 0.004), variance 79.7
    # (a regular or bursty generator would be far off; the standard error is ~5)
    counts = np.bincount(a[1], minlength=500)
    assert abs(counts.var(ddof=1) - 20000 * 0.004 * 0.996) < 20


def test_values_never_recompile():
    """Different sizes, weights, time constants and rates share one compiled loop."""
    def net(n, w, tau, rate):
        nt = ns.Network(seed=1)
        nt.population("a", "iaf_psc_exp", n, tau_m=tau)
        nt.poisson("p", 20, rate=rate)
        nt.connect("p", "a", ns.fixed_prob(0.3), weight=w, delay=1.0)
        nt.spike_monitor("a")
        return nt.compile(dt=0.1)

    s1, s2 = net(10, 50.0, 10.0, 10.0), net(333, 80.0, 25.0, 50.0)
    assert s1._run_chunk is s2._run_chunk
    assert s1.structure.key() == s2.structure.key()
    s3 = net(10, 50.0, 10.0, 10.0)
    s3.structure.parallel = True
    assert s3.structure.key() != s1.structure.key()


def test_small_networks_stay_serial_with_threads():
    """Below the split sizes a threaded compile runs the serial loop (no region overhead)."""
    sim = cuba.build(1000, seed=1).compile(threads=2)
    assert not sim.structure.parallel and "prange(n_threads)" not in sim.source


def test_set_params_changes_dynamics_without_recompiling():
    net = ns.Network(seed=0)
    net.population("a", "iaf_psc_exp", 1, I_e=400.0)
    net.spike_monitor("a")
    sim = net.compile(dt=0.1)
    fn = sim._run_chunk
    sim.run(100.0)
    n1 = sim.spikes("a")[0].size
    sim.set_params("a", I_e=800.0)
    sim.run(100.0)
    n2 = sim.spikes("a")[0].size - n1
    assert n2 > n1 > 0 and sim._run_chunk is fn


def test_generated_loop_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSIM_CACHE_DIR", str(tmp_path))
    st = codegen.Structure(parallel=False, pops=[("source", "", "")])
    codegen._LOADED.pop(st.key(), None)
    fn, src = codegen.load(st)
    files = list(tmp_path.glob("loop_*.py"))
    assert len(files) == 1 and files[0].read_text() == src
    assert "def run_chunk" in src and "@njit(cache=True" in src


@pytest.mark.parametrize("threads", [1, 2])
def test_state_get_set(threads, force_split):
    net = ns.Network(seed=0)
    net.population("a", "iaf_psc_delta", 4)
    sim = net.compile(dt=0.1, threads=threads)
    sim.set_state("a", "V_m", [-60.0, -56.0, -54.0, -40.0])
    sim.run(0.1)
    v = sim.get("a", "V_m")
    assert v[3] == -70.0 and v[0] < -60.0  # unit 3 fired and was reset


def test_set_weights_and_rate_between_runs_without_recompiling():
    net = ns.Network(seed=0)
    net.poisson("p", 50, rate=20.0)
    net.population("a", "iaf_psc_delta", 5)
    net.connect("p", "a", ns.all_to_all(), weight=0.1, delay=1.0, name="drive")
    net.spike_monitor("a")
    net.spike_monitor("p")
    sim = net.compile(dt=0.1)
    fn = sim._run_chunk
    sim.run(500.0)
    quiet = sim.spikes("a")[0].size
    sim.set_weights("drive", 3.0)
    sim.run(500.0)
    loud = sim.spikes("a")[0].size - quiet
    assert quiet == 0 and loud > 50
    n_in = sim.spikes("p")[0].size
    sim.set_rate("p", 0.0)
    sim.run(200.0)
    assert sim.spikes("p")[0].size == n_in and sim._run_chunk is fn
    sim.set_weights("drive", np.linspace(0, 1, sim.projection("drive").nnz))
    with pytest.raises(ns.ConfigError, match="weight"):
        sim.set_weights("drive", [1.0, 2.0])
    with pytest.raises(ns.ConfigError, match="rate"):
        sim.set_rate("p", -3.0)
