"""The training harness on a small real data set (sklearn's 8x8 digits, 1,797 images)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

from torch import nn  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.torch import harness as h  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one torch thread (two spin in barriers when the machine is busy)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def digits():
    d = sklearn_datasets.load_digits()
    x = (d.data / 16.0).astype(np.float32)  # (1797, 64) in [0, 1]
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def _loaders(digits, seed=0, batch=64):
    (x, y), _ = digits
    (xt, yt), (xv, yv) = h.train_val_split(x, y, 0.15, seed=seed)
    return (h.ArrayLoader(xt, yt, batch, shuffle=True, seed=seed),
            h.ArrayLoader(xv, yv, 256))


def test_mlp_learns_digits(digits):
    train, val = _loaders(digits)
    model = _mlp()
    hist = h.fit(model, train, val, epochs=15, lr=3e-3, scheduler="cosine", device="cpu")
    _, (xs, ys) = digits
    test = h.evaluate(model, h.ArrayLoader(xs, ys, 512), device="cpu")
    assert test["n"] == len(ys)
    assert test["accuracy"] > 0.85  # chance is 0.10
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert hist["epochs_run"] == 15 and not hist["stopped_early"]
    assert hist["device"] == "cpu" and len(hist["val_acc"]) == 15
    logits = h.predict(model, h.ArrayLoader(xs, ys, 100), device="cpu")
    assert logits.shape == (len(ys), 10)
    assert np.isclose((logits.argmax(1) == ys).mean(), test["accuracy"])


def test_sgd_and_step_schedule(digits):
    train, _ = _loaders(digits)
    model = _mlp()
    hist = h.fit(model, train, epochs=5, lr=0.1, optimizer="sgd", scheduler="step",
                 step_size=2, gamma=0.5, device="cpu")
    assert np.allclose(hist["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])
    assert hist["val_loss"] == [None] * 5
    assert hist["train_acc"][-1] > 0.8


def test_cosine_schedule_values(digits):
    train, _ = _loaders(digits)
    hist = h.fit(_mlp(), train, epochs=4, lr=1.0, optimizer="sgd", scheduler="cosine",
                 device="cpu")
    expected = [0.5 * (1 + np.cos(np.pi * e / 4)) for e in range(4)]
    assert np.allclose(hist["lr"], expected)


def test_early_stopping_stops_and_restores_best(digits):
    train, val = _loaders(digits)
    # lr = 0: the validation loss never improves after epoch 0 -> stop after 1 + patience
    hist = h.fit(_mlp(), train, val, epochs=20, lr=0.0, patience=2, device="cpu")
    assert hist["stopped_early"] and hist["epochs_run"] == 3 and hist["best_epoch"] == 0
    # a real run that overfits: a big lr on a tiny training set; the best weights come back
    (x, y), _ = digits
    small = h.ArrayLoader(x[:60], y[:60], 20, shuffle=True, seed=1)
    model = _mlp()
    hist = h.fit(model, small, val, epochs=60, lr=0.05, patience=3, device="cpu")
    assert hist["stopped_early"] and hist["epochs_run"] < 60
    assert hist["epochs_run"] == hist["best_epoch"] + 1 + 3
    again = h.evaluate(model, val, device="cpu")["loss"]
    assert np.isclose(again, hist["best_value"], rtol=1e-6)
    assert again == pytest.approx(min(hist["val_loss"]), rel=1e-6)


def test_monitor_val_acc(digits):
    train, val = _loaders(digits)
    hist = h.fit(_mlp(), train, val, epochs=3, lr=3e-3, monitor="val_acc", device="cpu")
    assert hist["best_value"] == max(hist["val_acc"])


def test_same_seed_same_history(digits):
    def run(seed):
        train, val = _loaders(digits, seed=seed)
        hist = h.fit(_mlp(seed), train, val, epochs=3, lr=3e-3, device="cpu", seed=seed)
        return [hist[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr")]

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_loader_batches_shuffle_and_transform():
    x = np.arange(10, dtype=np.uint8).reshape(10, 1) * 25
    y = np.arange(10)
    ld = h.ArrayLoader(x, y, 4, shuffle=True, seed=3)
    assert len(ld) == 3 and ld.n_samples == 10
    e0 = torch.cat([b[1] for b in ld])
    assert sorted(e0.tolist()) == list(range(10))
    assert torch.equal(e0, torch.cat([b[1] for b in ld]))  # same epoch, same order
    ld.set_epoch(1)
    assert not torch.equal(e0, torch.cat([b[1] for b in ld]))
    xb, _ = next(iter(ld))
    assert xb.dtype == torch.float32
    assert len(h.ArrayLoader(x, y, 4, drop_last=True)) == 2
    # rate coding on the device: (T, batch, features) 0/1, mean = intensity * max_rate * dt
    full = np.full((500, 4), 255, np.uint8)
    full[:, 1] = 128
    full[:, 2] = 0
    enc = h.ArrayLoader(full, np.zeros(500), 500, transform=h.rate_transform(200, 100.0, 1.0))
    s, _ = next(iter(enc))
    assert s.shape == (200, 500, 4) and set(s.unique().tolist()) <= {0.0, 1.0}
    m = s.mean(dim=(0, 1)).numpy()
    assert np.allclose(m, [0.1, 0.1 * 128 / 255, 0.0, 0.1], atol=0.004)
    s2, _ = next(iter(enc))
    assert torch.equal(s, s2)  # seeded from (seed, epoch, batch)
    pre = np.zeros((3, 5, 2), np.uint8)  # (batch, T, features) pre-encoded
    pre[1, 4, 0] = 1
    t, _ = next(iter(h.ArrayLoader(pre, np.zeros(3), 3, transform=h.time_major)))
    assert t.shape == (5, 3, 2) and t[4, 1, 0] == 1 and t.sum() == 1


def test_errors():
    x, y = np.zeros((4, 2), np.float32), np.zeros(4)
    with pytest.raises(ns.ConfigError, match="batch_size"):
        h.ArrayLoader(x, y, 0)
    with pytest.raises(ns.ConfigError, match="labels"):
        h.ArrayLoader(x, y[:3])
    ld = h.ArrayLoader(x, y)
    model = nn.Linear(2, 2)
    with pytest.raises(ns.ConfigError, match="optimizer"):
        h.fit(model, ld, epochs=1, optimizer="lbfgs", device="cpu")
    with pytest.raises(ns.ConfigError, match="scheduler"):
        h.fit(model, ld, epochs=1, scheduler="plateau", device="cpu")
    with pytest.raises(ns.ConfigError, match="patience"):
        h.fit(model, ld, epochs=1, patience=2, device="cpu")
    with pytest.raises(ns.ConfigError, match="device"):
        h.resolve_device("tpu:7")
    assert h.resolve_device("auto").type in ("cpu", "cuda")
