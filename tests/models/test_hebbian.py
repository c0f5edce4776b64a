"""Rate-based Hebbian rules (``models/plasticity/hebbian.py``): one set of equations, used on
dense layers of rate units and inside the engine on spiking networks.

* Oja's rule on a linear unit finds the first principal component of a correlated Gaussian
  cloud (norm 1, direction of numpy's ``eigh``);
* BCM on a linear unit shown two alternating patterns becomes selective to one of them, with
  its threshold tracking <y^2>/y0 (both to the exact fixed point of the discrete update);
* the engine's weights (and BCM thresholds) after 2 s of a spiking network equal, bit for
  bit, a slow replay of the recorded spikes (``tests/reference/hebbian_reference.py``);
* a user rule from ``custom_rule`` runs in the engine and on layers, also from a user module
  in a fresh process;
* bad parameters raise ConfigError naming the parameter and the value.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import neurosim as ns
from neurosim import ConfigError
from neurosim.models.plasticity import hebbian as hb

_REF = Path(__file__).resolve().parents[1] / "reference" / "hebbian_reference.py"
_spec = importlib.util.spec_from_file_location("hebbian_reference", _REF)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

DT = 0.1


# ------------------------------------------------------------------- layers of rate units


def test_oja_finds_first_principal_component():
    """A linear unit y = w . x trained with Oja's rule on a zero-mean 2-D Gaussian cloud in
    mini-batches (decaying rate) ends with |w| = 1 along the cloud's first principal axis."""
    rng = np.random.default_rng(1)
    cov = np.array([[3.0, 1.2], [1.2, 1.0]])                   # eigenvalues 3.58, 0.42
    X = rng.multivariate_normal([0.0, 0.0], cov, size=20_000)
    W = np.array([[0.3, -0.8]])
    for epoch in range(6):
        eta = 0.02 / (1 + 2 * epoch)
        for b in range(0, len(X), 10):
            xb = X[b:b + 10]
            hb.oja_update(W, xb, xb @ W.T, eta)
    # Oja extracts the top eigenvector of E[x x^T] of the data it saw
    _, vecs = np.linalg.eigh(X.T @ X / len(X))
    pc1, w = vecs[:, -1], W[0]
    norm = np.linalg.norm(w)
    angle = math.degrees(math.acos(min(1.0, abs(w @ pc1) / norm)))
    print(f"Oja: |w| = {norm:.6f}, angle to PC1 = {angle:.4f} deg")
    assert abs(norm - 1.0) < 1e-2
    assert angle < 1.0


@pytest.mark.parametrize("w0, winner", [([0.5, 0.45], 0), ([0.45, 0.5], 1), ([0.3, 0.3], 0),
                                        ([0.2, 0.6], 1)])
def test_bcm_two_patterns_becomes_selective(w0, winner):
    """Classic BCM selectivity: a linear unit shown two overlapping patterns in alternation
    ends responding to the pattern its initial weights favoured (ties: the first shown) and
    not at all to the other. With the threshold moving by a = 1 - exp(-1/tau_theta) per
    update, the fixed point of the alternating sequence is y_win = theta right after the
    winner's update = y0 (2 - a) (-> y0 / p = 2 y0 for slow thresholds), and the threshold
    averaged over a cycle equals <y^2> / y0 exactly."""
    P = np.array([[20.0, 5.0], [5.0, 20.0]])                    # Hz
    y0, tau_theta = 10.0, 20.0
    W, theta = np.array([w0]), np.array([5.0])
    thetas, ys = [], []
    for n in range(40_000):
        x = P[n % 2]
        y = W @ x
        hb.bcm_update(W, x, y, theta, eta=1e-6, tau_theta=tau_theta, y0=y0)
        thetas.append(theta[0])
        ys.append(y[0])
    r = P @ W[0]                                               # responses to both patterns
    selectivity = 1.0 - abs(r[1 - winner]) / r[winner]
    a = -math.expm1(-1.0 / tau_theta)
    mean_theta = np.mean(thetas[-1000:])
    mean_y2 = np.mean(np.square(ys[-1000:])) / y0
    print(f"BCM from {w0}: responses {r}, selectivity {selectivity:.12f}, "
          f"mean theta {mean_theta:.6f}, <y^2>/y0 {mean_y2:.6f}")
    assert r[winner] == pytest.approx(y0 * (2.0 - a), rel=1e-9)
    assert selectivity > 0.999
    assert mean_theta == pytest.approx(mean_y2, rel=1e-9)


def test_layer_sample_equals_engine_equations_and_batch_mean():
    """One set of equations: a batch of one sample gives exactly the per-synapse update of
    the engine reference; a batch gives the mean of the per-sample changes at fixed W;
    serial and threaded kernels agree."""
    rng = np.random.default_rng(7)
    W0 = rng.uniform(-1.0, 1.0, (5, 7))
    X = rng.uniform(0.0, 40.0, (9, 7))
    Y = rng.uniform(0.0, 40.0, (9, 5))
    p = dict(eta=1e-4, w_min=-0.8, w_max=0.9)
    for name, f in (("hebb", ref.f_hebb), ("oja", ref.f_oja)):
        upd = getattr(hb, f"{name}_update")
        W = W0.copy()
        upd(W, X[0], Y[0], **p)
        want = [[ref.clip(W0[q, i] + p["eta"] * f(X[0, i], Y[0, q], W0[q, i]), p["w_min"],
                          p["w_max"]) for i in range(7)] for q in range(5)]
        np.testing.assert_array_equal(W, want)
        W = W0.copy()
        upd(W, X, Y, **p)
        dw = np.mean([[[f(X[b, i], Y[b, q], W0[q, i]) for i in range(7)] for q in range(5)]
                      for b in range(9)], axis=0)
        np.testing.assert_allclose(W, np.clip(W0 + p["eta"] * dw, -0.8, 0.9), rtol=1e-13)
    # BCM: thresholds first (batch mean of y^2), then the weights with the new thresholds
    theta0 = rng.uniform(5.0, 20.0, 5)
    W, theta = W0.copy(), theta0.copy()
    hb.bcm_update(W, X, Y, theta, eta=1e-6, tau_theta=7.0, y0=12.0)
    a = -math.expm1(-1.0 / 7.0)
    th = theta0 + a * (np.mean(Y ** 2, axis=0) / 12.0 - theta0)
    dw = np.mean(X[:, None, :] * Y[:, :, None] * (Y[:, :, None] - th[None, :, None]), axis=0)
    np.testing.assert_allclose(theta, th, rtol=1e-14)
    np.testing.assert_allclose(W, W0 + 1e-6 * dw, rtol=1e-13)


def test_threaded_layer_equals_serial(monkeypatch):
    rng = np.random.default_rng(3)
    W0 = rng.normal(size=(64, 50))
    X = rng.uniform(0.0, 30.0, (16, 50))
    Y = rng.uniform(0.0, 30.0, (16, 64))
    th0 = rng.uniform(5.0, 20.0, 64)
    out = {}
    for work in (1 << 60, 0):                                  # serial, then threaded
        monkeypatch.setattr(hb, "PARALLEL_MIN_WORK", work)
        W1, W2, W3, th = W0.copy(), W0.copy(), W0.copy(), th0.copy()
        hb.hebb_update(W1, X, Y, 1e-5)
        hb.oja_update(W2, X, Y, 1e-5)
        hb.bcm_update(W3, X, Y, th, 1e-7)
        out[work] = (W1, W2, W3, th)
    for a, b in zip(out[1 << 60], out[0], strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ engine vs reference

RULES = {
    "hebb": dict(eta=1e-5, w_min=0.0, w_max=60.0, tau_pre=80.0, tau_post=120.0),
    "oja": dict(eta=1e-6, tau_pre=100.0, tau_post=50.0),
    "bcm": dict(eta=1e-6, tau_theta=50.0, y0=10.0, theta0=15.0, w_min=0.0),
}


def spiking_net(rule, params, every=1.0, threads=1, duration=2000.0, chunk=100.0,
                rec_rule=None, n_out=6):
    """Poisson sources (5-40 Hz) -> ``n_out`` iaf_psc_exp neurons, plastic feed-forward and
    recurrent projections."""
    net = ns.Network(seed=5)
    net.poisson("inp", 30, np.linspace(5.0, 40.0, 30))
    net.population("out", "iaf_psc_exp", n_out, I_e=360.0)
    pl = ns.Plasticity(rule, every=every, **params)
    net.connect("inp", "out", ns.fixed_prob(0.6), weight=ns.Uniform(20.0, 60.0),
                delay=ns.Uniform(0.5, 2.0), plasticity=pl, name="ff")
    net.connect("out", "out", ns.fixed_prob(0.5), weight=ns.Uniform(0.0, 30.0),
                delay=ns.Uniform(0.5, 2.0), plasticity=rec_rule or pl, name="rec")
    net.spike_monitor("inp")
    net.spike_monitor("out")
    sim = net.compile(dt=DT, threads=threads)
    w0 = {name: sim.weights(name) for name in ("ff", "rec")}
    sim.run(duration, chunk=chunk)
    return sim, w0, {"ff": pl, "rec": rec_rule or pl}


def check_against_reference(sim, w0, pls, f=None):
    for name, pre in (("ff", "inp"), ("rec", "out")):
        pl = pls[name]
        rule = pl.name if pl.name in ("hebb", "oja", "bcm") else "custom"
        src, tgt = sim.synapses(name)
        want, theta = ref.replay(rule, pl.params, w0[name], src, tgt, sim.spike_steps(pre),
                                 sim.spike_steps("out"), DT, pl.every_steps(DT), sim.k, f=f)
        got = sim.weights(name)
        assert np.abs(got - w0[name]).max() > 1.0                # the weights did learn
        np.testing.assert_array_equal(got, want)
        if theta is not None:                                  # BCM thresholds as well
            np.testing.assert_array_equal(sim._plastic[name][0].post_state[0], theta)


@pytest.fixture(scope="module", params=list(RULES))
def engine_case(request):
    rule = request.param
    return rule, *spiking_net(rule, RULES[rule])


def test_engine_equals_reference(engine_case):
    rule, sim, w0, pls = engine_case
    n_out = sim.spike_steps("out")[0].size
    assert n_out > 6 * 2 * 5                                   # > 5 Hz on average
    check_against_reference(sim, w0, pls)
    if rule == "hebb":
        w = sim.weights("ff")
        assert w.min() >= 0.0 and w.max() <= 60.0 and (w == 60.0).any()   # bounds hit


def test_rate_traces_are_rates_in_hz(engine_case):
    """The traces, read as the engine reads them, estimate the Poisson rates (Hz)."""
    _, sim, _, pls = engine_case
    tau = pls["ff"].params["tau_pre"]
    stamps, units = sim.spike_steps("inp")
    traces = [ref.RateTrace(tau, DT) for _ in range(30)]
    total, e, n = np.zeros(30), 0, 0
    order = np.argsort(stamps, kind="stable")
    stamps, units = stamps[order], units[order]
    for T in range(5000, sim.k + 1, 10):                       # after 500 ms of warm-up
        while e < stamps.size and stamps[e] <= T:
            traces[units[e]].jump(int(stamps[e]))
            e += 1
        total += [tr.hz(T) for tr in traces]
        n += 1
    np.testing.assert_allclose(total / n, np.linspace(5.0, 40.0, 30), rtol=0.35, atol=2.0)
    assert abs(np.mean(total / n) / 22.5 - 1.0) < 0.05


def test_engine_every_step_mixed_rules_and_threads(force_split):
    """every=None (each step), two rate rules in one network, two threads and odd chunks."""
    bcm = ns.Plasticity("bcm", **RULES["bcm"])
    a = spiking_net("oja", RULES["oja"], every=None, duration=500.0, rec_rule=bcm, n_out=16)
    b = spiking_net("oja", RULES["oja"], every=None, duration=500.0, rec_rule=bcm, n_out=16,
                    threads=2, chunk=7.3)
    assert b[0].structure.parallel
    for name in ("ff", "rec"):
        np.testing.assert_array_equal(a[0].weights(name), b[0].weights(name))
    check_against_reference(*a)


def test_engine_run_in_pieces_equals_one_run():
    a = spiking_net("bcm", RULES["bcm"], every=2.5, duration=1000.0)
    b = spiking_net("bcm", RULES["bcm"], every=2.5, duration=0.0)
    for d in (0.1, 0.2, 123.4, 376.3, 500.0):
        b[0].run(d, chunk=0.1 if d < 1 else 50.0)
    for name in ("ff", "rec"):
        np.testing.assert_array_equal(a[0].weights(name), b[0].weights(name))
    check_against_reference(*a)


# ----------------------------------------------------------------------------- user rules


@njit
def covariance_rule(x, y, w):
    """Covariance rule around 15 Hz with a weight decay (user function)."""
    return (x - 15.0) * (y - 15.0) - 4.0 * w


@njit
def returns_pair(x, y, w):
    return (x, y)


def covariance_py(x, y, w):
    return (x - 15.0) * (y - 15.0) - 4.0 * w


@pytest.fixture
def scratch_registry():
    """Rules registered by a test leave the registry afterwards (so that, e.g., the generated
    model docs of other tests do not list them)."""
    from neurosim import registry

    before = set(registry._RULES)
    yield
    for name in set(registry._RULES) - before:
        del registry._RULES[name]


@pytest.mark.usefixtures("scratch_registry")
def test_custom_rule_engine_and_layer():
    rule = hb.custom_rule("test_covariance", covariance_rule, eta=1e-5, tau=90.0)
    assert hb.custom_rule("test_covariance", covariance_rule) is rule   # idempotent
    assert ns.Plasticity("test_covariance").spec is rule.spec
    assert rule.spec.defaults()["tau_pre"] == 90.0
    params = dict(eta=2e-5, w_min=0.0, w_max=70.0)
    check_against_reference(*spiking_net("test_covariance", params), f=covariance_py)
    # the same function on a layer
    rng = np.random.default_rng(2)
    W0 = rng.uniform(0.0, 1.0, (4, 6))
    X, Y = rng.uniform(0.0, 30.0, (1, 6)), rng.uniform(0.0, 30.0, (1, 4))
    W = W0.copy()
    rule.update(W, X, Y, 1e-3, w_min=0.0)
    want = [[ref.clip(W0[q, i] + 1e-3 * covariance_py(X[0, i], Y[0, q], W0[q, i]), 0.0,
                      math.inf) for i in range(6)] for q in range(4)]
    np.testing.assert_array_equal(W, want)


_USER_MODULE = """
from numba import njit


@njit
def anti_hebb(x, y, w):
    return -{factor} * x * y
"""

_USER_SCRIPT = """
import numpy as np
import neurosim as ns
from neurosim.models.plasticity.hebbian import custom_rule
import user_rules

custom_rule("anti_hebb", user_rules.anti_hebb)
net = ns.Network(seed=1)
net.poisson("inp", 10, 30.0)
net.population("out", "iaf_psc_exp", 3, I_e=380.0)
net.connect("inp", "out", ns.all_to_all(), weight=30.0, name="ff",
            plasticity=ns.Plasticity("anti_hebb", every=1.0, eta=1e-6))
sim = net.compile(dt=0.1)
sim.run(300.0)
print(repr(float(30.0 - sim.weights("ff").mean())))
"""


def test_custom_rule_from_user_module_in_fresh_processes(tmp_path):
    """A rule from a user's module file works in a new process; editing the module gives a
    new compiled loop (the cached one would be stale)."""
    (tmp_path / "run.py").write_text(_USER_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NEUROSIM_CACHE_DIR=str(tmp_path / "c"))

    def run(factor):
        (tmp_path / "user_rules.py").write_text(_USER_MODULE.format(factor=factor))
        out = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return float(out.stdout.split()[-1])

    d1 = run("1.0")
    d1_cached = run("1.0")
    d2 = run("2.0")
    assert d1 > 0.1 and d1_cached == d1
    assert d2 == pytest.approx(2.0 * d1, rel=0.2) and d2 != d1


@pytest.mark.usefixtures("scratch_registry")
def test_custom_rule_refuses_bad_functions():
    def plain(x, y, w):
        return x * y

    def make():
        @njit
        def inner(x, y, w):
            return x * y
        return inner

    for f, words in ((plain, ["'f'", "@njit"]), (make(), ["top level", "inner"]),
                     (returns_pair, ["return a float", "tuple"]),
                     (covariance_rule, ["'name'", "hebb", "already"])):
        with pytest.raises(ConfigError) as e:
            hb.custom_rule("hebb" if f is covariance_rule else "fresh_rule", f)
        for w in words:
            assert w in str(e.value)
    with pytest.raises(ConfigError, match="'name' = 'a b'"):
        hb.custom_rule("a b", covariance_rule)
    with pytest.raises(ConfigError, match="another function"):
        hb.custom_rule("test_covariance_2", covariance_rule)
        hb.custom_rule("test_covariance_2", njit(covariance_py))


# ------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize("rule, params, words", [
    ("oja", dict(tau_pre=-5.0), ["Plasticity 'oja'", "tau_pre", "-5.0", "> 0"]),
    ("hebb", dict(tau_post=0.0), ["Plasticity 'hebb'", "tau_post", "0.0"]),
    ("hebb", dict(eta=math.inf), ["eta", "inf"]),
    ("bcm", dict(y0=-1.0), ["Plasticity 'bcm'", "y0", "-1.0"]),
    ("bcm", dict(tau_theta=math.nan), ["tau_theta", "nan"]),
    ("bcm", dict(w_min=math.nan), ["w_min", "nan"]),
    ("oja", dict(tau=3.0), ["tau", "3.0", "not a parameter"]),
    ("hebb", dict(eta="fast"), ["eta", "fast"]),
])
def test_bad_rule_parameters(rule, params, words):
    with pytest.raises(ConfigError) as e:
        ns.Plasticity(rule, **params)
    for w in words:
        assert w in str(e.value)


def test_bad_bounds_and_every():
    with pytest.raises(ConfigError) as e:
        ns.Plasticity("hebb", w_min=5.0, w_max=1.0)
    for w in ("Plasticity 'hebb'", "w_max", "1.0", "w_min = 5.0"):
        assert w in str(e.value)
    with pytest.raises(ConfigError, match="'every' = -1.0"):
        ns.Plasticity("oja", every=-1.0)


def test_bad_layer_arguments():
    W, X, Y = np.zeros((2, 3)), np.ones((4, 3)), np.ones((4, 2))
    cases = [
        (lambda: hb.oja_update(W, X, Y, eta=math.nan), ["oja_update", "eta", "nan"]),
        (lambda: hb.hebb_update(W, X[:, :2], Y, 0.1), ["hebb_update", "'X'", "(4, 2)"]),
        (lambda: hb.hebb_update(W, X, Y[:3], 0.1), ["'Y'", "(3, 2)"]),
        (lambda: hb.hebb_update(W.astype(np.float32), X, Y, 0.1), ["'W'"]),
        (lambda: hb.hebb_update(W, X, Y, 0.1, w_min=1.0, w_max=0.0), ["w_max", "0.0"]),
        (lambda: hb.bcm_update(W, X, Y, np.zeros(3), 0.1), ["bcm_update", "theta"]),
        (lambda: hb.bcm_update(W, X, Y, np.zeros(2), 0.1, tau_theta=-2.0),
         ["tau_theta", "-2.0"]),
        (lambda: hb.bcm_update(W, X, Y, np.zeros(2), 0.1, y0=0.0), ["y0", "0.0"]),
    ]
    for call, words in cases:
        with pytest.raises(ConfigError) as e:
            call()
        for w in words:
            assert w in str(e.value)
