"""SoftHebb rules: batched kernels against naive loops, conv trick against im2col, the Numba and
torch backends against each other, and the limits (tau -> 0, anti-Hebbian sign)."""

import numpy as np
import pytest

from neurosim.errors import ConfigError
from neurosim.models.plasticity.softhebb import RULES, SoftHebbDense, convergence

torch = pytest.importorskip("torch")
F = torch.nn.functional
sht = pytest.importorskip("neurosim.models.plasticity.softhebb_torch")


def naive_factor(u, rule, t_invert, delta=0.4, ranking=2):
    """Post-synaptic factor of one sample, written out (float64)."""
    u = np.asarray(u, dtype=np.float64)
    win = int(np.argmax(u))
    y = np.zeros_like(u)
    if rule == "hard":
        y[win] = 1.0
    elif rule == "krotov":
        order = np.argsort(-u, kind="stable")
        y[order[0]] = 1.0
        y[order[ranking - 1]] = -delta
    else:
        e = np.exp(t_invert * (u - u.max()))
        y = e / e.sum()
        if rule == "softkrotov":
            y = np.where(np.arange(len(u)) == win, y, -y)
    return y


def naive_delta(W, X, rule, t_invert):
    """dW_ki = sum_b y_kb (x_ib - u_kb w_ki), one sample, one neuron, one input at a time."""
    W = W.astype(np.float64)
    dW = np.zeros_like(W)
    for x in X.astype(np.float64):
        u = np.array([sum(W[k, i] * x[i] for i in range(W.shape[1])) for k in range(len(W))])
        y = naive_factor(u, rule, t_invert)
        for k in range(W.shape[0]):
            for i in range(W.shape[1]):
                dW[k, i] += y[k] * (x[i] - u[k] * W[k, i])
    return dW


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("n_batch", [1, 7, 32])
def test_compiled_step_equals_naive_update(rule, n_batch):
    """The one-call Numba step (register blocks of 4 neurons x 2 samples, zero factors skipped,
    max on bit patterns) = the naive loop's dW, normalised by its max, times each neuron's
    eta from its norm; 13 neurons and odd batches leave remainders in every block."""
    rng = np.random.default_rng(n_batch)
    X = rng.random((n_batch, 10))
    for t_invert in (0.7, 40.0):  # 40: most softmax factors underflow to exactly 0
        layer = SoftHebbDense(10, 13, rule=rule, t_invert=t_invert, lr=0.05, lr_power=0.5,
                              radius=3.0, seed=2, dtype=np.float64)
        W0 = layer.weight.copy()
        dW = naive_delta(W0, X, rule, t_invert)
        eta = 0.05 * (np.abs(np.linalg.norm(W0, axis=1) - 1.0) + 1e-10) ** 0.5
        U = layer.update(X)
        np.testing.assert_allclose(U, X @ W0.T, rtol=1e-12)
        want = W0 + eta[:, None] * dW / (np.abs(dW).max() + 1e-30)
        np.testing.assert_allclose(layer.weight, want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer._norms, np.linalg.norm(want, axis=1), rtol=1e-12)


def test_softmax_underflow_is_exact():
    """Skipping exp below the underflow point changes nothing: zeros where numpy's exp gives
    zeros, the same values wherever they are normal numbers (float32 and float64; in the
    subnormal range Numba's exp may flush to 0 where numpy's does not, skip or no skip)."""
    u = np.linspace(-900.0, 0.0, 4001)[None]
    for dtype in (np.float32, np.float64):
        layer = SoftHebbDense(3, u.shape[1], rule="soft", t_invert=1.0, dtype=dtype)
        y = layer.postsynaptic(u.astype(dtype))[0]
        e = np.exp(u.astype(dtype))[0]
        ref = e / e.astype(np.float64).sum()
        normal = ref >= np.finfo(dtype).tiny
        assert np.all(y[ref == 0] == 0) and np.all(y[~normal] < np.finfo(dtype).tiny)
        np.testing.assert_allclose(y[normal], ref[normal],
                                   rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    return rng.random((7, 12)).astype(np.float32)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_batched_delta_equals_naive_loop(rule, batch):
    layer = SoftHebbDense(12, 5, rule=rule, t_invert=0.7, radius=2.0, seed=1, dtype=np.float64)
    got = layer.delta_weight(batch, normalise=False)
    ref = naive_delta(layer.weight, batch, rule, 0.7)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9 * np.abs(ref).max())
    torch_layer = sht.SoftHebbLinear(12, 5, rule=rule, t_invert=0.7)
    torch_layer.weight.data = torch.from_numpy(layer.weight.copy())
    tw = torch_layer.delta_weight(torch.from_numpy(batch.astype(np.float64))).numpy()
    np.testing.assert_allclose(tw, ref, rtol=1e-6, atol=1e-9 * np.abs(ref).max())


def test_update_is_normalised_and_norm_dependent(batch):
    layer = SoftHebbDense(12, 5, rule="softkrotov", lr=0.1, lr_power=0.5, radius=3.0, seed=2,
                          dtype=np.float64)
    w0 = layer.weight.copy()
    norms = np.linalg.norm(w0, axis=1)
    eta = 0.1 * (np.abs(norms - 1.0) + 1e-10) ** 0.5
    np.testing.assert_allclose(layer.learning_rates(), eta, rtol=1e-12)
    d = naive_delta(w0, batch, "softkrotov", 1.0)
    layer.update(batch)
    np.testing.assert_allclose(layer.weight, w0 + eta[:, None] * d / np.abs(d).max(),
                               rtol=1e-10, atol=1e-12)
    assert np.abs(layer.weight - w0).max() == pytest.approx(eta[np.argmax(
        np.abs(d).max(axis=1))], rel=1e-9)


def test_numba_and_torch_dense_paths_agree():
    """Same batches, float32: same normalised dW (1e-5) and the same weights after 50 steps."""
    rng = np.random.default_rng(0)
    for rule in sorted(RULES):
        layer = SoftHebbDense(64, 30, rule=rule, t_invert=2.0, lr=0.05, radius=5.0, seed=4)
        tl = sht.SoftHebbLinear(64, 30, rule=rule, t_invert=2.0, lr=0.05)
        tl.weight.data = torch.from_numpy(layer.weight.copy())
        x0 = rng.random((16, 64)).astype(np.float32)
        dw_t = tl.delta_weight(torch.from_numpy(x0))
        dw_t = (dw_t / dw_t.abs().max()).numpy()
        np.testing.assert_allclose(layer.delta_weight(x0), dw_t, atol=1e-5)
        for _ in range(50):
            xb = rng.random((16, 64)).astype(np.float32)
            layer.update(xb)
            tl.hebbian_update(torch.from_numpy(xb))
        np.testing.assert_allclose(layer.weight, tl.weight.numpy(), atol=1e-4, rtol=1e-4)


def test_conv_trick_equals_im2col():
    gen = torch.Generator().manual_seed(0)
    for rule, pre_tri in (("softkrotov", False), ("soft", True), ("hard", False)):
        conv = sht.SoftHebbConv2d(3, 8, 3, padding=1, rule=rule, t_invert=0.65,
                                  pre_triangle=pre_tri, generator=gen)
        x = torch.rand(5, 3, 9, 9, generator=gen)
        got = conv.delta_weight(x).reshape(8, -1)
        xp = F.pad(x, (1, 1, 1, 1), mode="reflect")
        P = F.unfold(xp, 3)                                 # (B, C*9, positions)
        W = conv.weight.reshape(8, -1)
        u = torch.einsum("kn,bnl->bkl", W, P)
        a = sht.Triangle(1.0)(u) if pre_tri else u
        y = sht.postsynaptic(a, rule, 0.65)
        ref = torch.einsum("bkl,bnl->kn", y, P) - (y * u).sum((0, 2))[:, None] * W
        got, ref = got / got.abs().max(), ref / ref.abs().max()
        assert float((got - ref).abs().max()) < 1e-5


def test_reflect_padding_and_forward_shape():
    conv = sht.SoftHebbConv2d(1, 4, 5, padding=2)
    x = torch.rand(2, 1, 10, 10)
    u = conv(x)
    assert u.shape == (2, 4, 10, 10)
    ref = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), conv.weight)
    assert torch.equal(u, ref)


def test_zero_temperature_is_hard_wta(batch):
    soft = SoftHebbDense(12, 6, rule="soft", t_invert=1e6, seed=5)
    hard = SoftHebbDense(12, 6, rule="hard", seed=5)
    U = soft.preactivation(batch)
    np.testing.assert_array_equal(soft.postsynaptic(U), hard.postsynaptic(U))
    u = torch.from_numpy(U)
    assert torch.equal(sht.postsynaptic(u, "soft", 1e6), sht.postsynaptic(u, "hard", 1.0))


def test_anti_hebbian_has_one_positive_factor_per_position():
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(4, 16, 6, 6, generator=gen)
    y = sht.postsynaptic(u, "softkrotov", 0.8)
    pos = (y > 0).sum(dim=1)
    assert torch.all(pos == 1)
    assert torch.equal((y > 0).float().argmax(dim=1), u.argmax(dim=1))
    np.testing.assert_allclose(y.abs().sum(dim=1).numpy(), 1.0, rtol=1e-6)
    layer = SoftHebbDense(10, 16, rule="softkrotov", t_invert=0.8)
    Y = layer.postsynaptic(np.random.default_rng(0).normal(size=(50, 16)).astype(np.float32))
    assert np.all((Y > 0).sum(axis=1) == 1)
    np.testing.assert_allclose(np.abs(Y).sum(axis=1), 1.0, rtol=1e-5)


def test_krotov_ranking_factor():
    u = np.array([[0.1, 0.9, 0.5, 0.7]], dtype=np.float32)
    layer = SoftHebbDense(3, 4, rule="krotov", delta=0.4, ranking=2)
    np.testing.assert_allclose(layer.postsynaptic(u), [[0, 1, 0, -0.4]])
    np.testing.assert_allclose(sht.postsynaptic(torch.from_numpy(u), "krotov", 1.0, 0.4, 2),
                               [[0, 1, 0, -0.4]])


def test_norms_converge_to_one_on_real_digits():
    """Adaptive learning rate: on real MNIST digits every norm moves from 35 toward 1."""
    from neurosim.datasets import mnist_subset

    x, _ = mnist_subset()
    X = x.reshape(len(x), -1).astype(np.float32) / 255.0
    layer = SoftHebbDense(784, 50, rule="soft", t_invert=12.0, lr=0.045, lr_power=0.2,
                          radius=35.0, init="positive", seed=0)
    dev = [convergence(layer.weight)[0]]
    for s in range(0, 5000, 500):           # first pass: the norms fall monotonically
        layer.fit(X[s:s + 500], batch_size=32)
        dev.append(layer.convergence()[0])
    assert dev[0] == pytest.approx(34.0, abs=1.0)
    assert all(b < a for a, b in zip(dev, dev[1:], strict=False))
    layer.fit(X, batch_size=32)             # second pass (312 updates in all): converged
    mean_dev, r1 = layer.convergence()
    assert mean_dev < 0.02
    assert r1 > 0.5


def test_bad_parameters_are_named():
    with pytest.raises(ConfigError, match="rule.*'oja'"):
        SoftHebbDense(4, 3, rule="oja")
    with pytest.raises(ConfigError, match="t_invert"):
        SoftHebbDense(4, 3, t_invert=-1.0)
    with pytest.raises(ConfigError, match="X"):
        SoftHebbDense(4, 3).update(np.zeros((2, 5)))
    with pytest.raises(ConfigError, match="ranking"):
        SoftHebbDense(4, 3, rule="krotov", ranking=4)
    with pytest.raises(ConfigError, match="lr"):
        sht.SoftHebbLinear(4, 3, lr=float("nan"))
