"""Connectivity rules and the CSR they compile to."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.projection import Projection

DT = 0.1


def _build(rule, n_pre, n_post, weight=1.0, delay=1.0, same=False, seed=0):
    proj = Projection("p", "a", "a" if same else "b", rule, weight, delay, "exc")
    return proj.build(n_pre, n_post, np.random.default_rng(seed), DT)


def _pairs(csr):
    return csr.pre(), csr.post.astype(np.int64)


def test_csr_rows_sorted():
    csr = _build(ns.fixed_prob(0.1), 300, 400)
    pre, post = _pairs(csr)
    key = pre * 400 + post
    assert np.all(np.diff(key) > 0)
    assert csr.indptr[0] == 0 and csr.indptr[-1] == csr.nnz


def test_fixed_prob_statistics():
    n_pre, n_post, p = 1000, 800, 0.05
    csr = _build(ns.fixed_prob(p), n_pre, n_post)
    expected = n_pre * n_post * p
    assert abs(csr.nnz - expected) < 5 * np.sqrt(expected * (1 - p))
    # each pair independently: per-post in-degrees are Binomial(n_pre, p)
    indeg = np.bincount(csr.post, minlength=n_post)
    assert abs(indeg.var() - n_pre * p * (1 - p)) < 0.2 * n_pre * p * (1 - p)
    # no duplicates
    pre, post = _pairs(csr)
    assert np.unique(pre * n_post + post).size == csr.nnz


def test_fixed_prob_autapses():
    csr = _build(ns.fixed_prob(0.5), 200, 200, same=True)
    pre, post = _pairs(csr)
    assert not np.any(pre == post)
    csr = _build(ns.fixed_prob(0.5, autapses=True), 200, 200, same=True)
    pre, post = _pairs(csr)
    assert np.any(pre == post)


def test_all_to_all_and_one_to_one():
    csr = _build(ns.all_to_all(), 5, 7)
    assert csr.nnz == 35
    csr = _build(ns.all_to_all(), 6, 6, same=True)
    assert csr.nnz == 30
    csr = _build(ns.one_to_one(), 9, 9)
    np.testing.assert_array_equal(csr.post, np.arange(9))
    with pytest.raises(ns.ConfigError, match="one_to_one"):
        _build(ns.one_to_one(), 3, 4)


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_in_and_out_degree(multapses):
    csr = _build(ns.fixed_indegree(12, multapses=multapses), 50, 70, same=False)
    np.testing.assert_array_equal(np.bincount(csr.post, minlength=70), 12)
    csr = _build(ns.fixed_outdegree(9, multapses=multapses), 40, 30)
    np.testing.assert_array_equal(np.diff(csr.indptr), 9)
    csr = _build(ns.fixed_indegree(10, multapses=multapses), 30, 30, same=True)
    pre, post = _pairs(csr)
    assert not np.any(pre == post)
    if not multapses:
        assert np.unique(pre * 30 + post).size == csr.nnz


def test_explicit_arrays_keep_weight_order():
    pre = np.array([3, 0, 3, 1])
    post = np.array([1, 2, 0, 0])
    w = np.array([30.0, 2.0, 31.0, 10.0])
    d = np.array([0.3, 0.1, 0.2, 0.5])
    csr = _build(ns.arrays(pre, post), 4, 3, weight=w, delay=d)
    got = {(int(a), int(b)): (x, y) for a, b, x, y in
           zip(csr.pre(), csr.post, csr.weights(), csr.delays(), strict=True)}
    want = {(int(a), int(b)): (x, round(y / DT))
            for a, b, x, y in zip(pre, post, w, d, strict=True)}
    assert got == want


def test_shared_values_are_stored_once():
    csr = _build(ns.fixed_prob(0.2), 100, 100, weight=2.5, delay=1.5)
    assert csr.weight.shape == (1,) and csr.delay.shape == (1,) and csr.delay[0] == 15
    csr = _build(ns.fixed_prob(0.2), 100, 100, weight=ns.Normal(1.0, 0.1),
                 delay=ns.Uniform(0.1, 2.0))
    assert csr.weight.shape == (csr.nnz,) and csr.delay.shape == (csr.nnz,)
    assert csr.delays().min() >= 1 and csr.delays().max() <= 20


def test_delay_rounding_rule():
    from neurosim.units import to_steps

    assert to_steps(0.3, 0.1) == 3 and to_steps(0.7, 0.1) == 7 and to_steps(2.9999999, 1.0) == 3
    assert to_steps(0.25, 0.1) == 3  # round half up
    np.testing.assert_array_equal(to_steps([0.1, 0.14, 0.16], 0.1), [1, 1, 2])


def test_large_bernoulli_build_is_fast():
    """64,000 x 64,000 at p = 0.00125 (5.1 M synapses) builds in seconds, not minutes."""
    import time

    t = time.perf_counter()
    csr = _build(ns.fixed_prob(0.00125), 64000, 64000)
    assert time.perf_counter() - t < 5.0
    assert abs(csr.nnz - 5.12e6) < 5 * np.sqrt(5.12e6)
