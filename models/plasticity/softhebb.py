r"""SoftHebb: soft winner-take-all layers that learn without feedback (Numba CPU backend).

One layer has :math:`K` neurons with weight vectors :math:`w_k \in \mathbb{R}^N`. For a batch of
inputs :math:`x_b` (rows of ``X``, shape ``(B, N)``) the pre-activations are

.. math:: u_{bk} = \sum_i w_{ki}\, x_{bi}

(Lebesgue exponent :math:`p = 2`, the value of every published preset; no bias). Plasticity
uses a post-synaptic factor :math:`y_{bk}` that depends on the rule:

``soft`` (Moraitis et al. 2022, *Neuromorph. Comput. Eng.* 2:044017)
    :math:`y_{bk} = \operatorname{softmax}_k(u_b / \tau)_k` (``t_invert`` = :math:`1/\tau`).
``softkrotov`` (Journé et al., ICLR 2023: "soft anti-Hebbian"; the authors' code name)
    the same softmax, sign-flipped for every neuron but the winner:
    :math:`y_{bk} = +s_{bk}` if :math:`k = \arg\max_l u_{bl}`, else :math:`-s_{bk}`.
``hard`` (hard winner-take-all)
    :math:`y_{bk} = 1` for the winner, 0 otherwise (the limit :math:`\tau \to 0` of ``soft``).
``krotov`` (Krotov & Hopfield 2019, *PNAS* 116:7723, ranking form)
    :math:`y = 1` for the most activated neuron, :math:`-\Delta` for the ``ranking``-th most
    activated one (``delta`` = :math:`\Delta`), 0 otherwise.

The batched Oja-like change of every rule (Journé et al. 2023, eq. of the code's
``delta_weight``) and its layer-wide normalisation:

.. math::

    \Delta w_{ki} = \sum_b y_{bk} \big(x_{bi} - u_{bk} w_{ki}\big)
                  = (Y^\top X)_{ki} - \Big(\sum_b y_{bk} u_{bk}\Big) w_{ki},
    \qquad
    \widehat{\Delta w} = \frac{\Delta w}{\max_{k,i} |\Delta w_{ki}| + 10^{-30}}

(one scalar per layer and batch, so ``lr`` is the step of the most-changed synapse), applied
with the weight-norm-dependent learning rate of each neuron,

.. math::

    w_k \leftarrow w_k + \eta_k\, \widehat{\Delta w}_k, \qquad
    \eta_k = \eta\, \big(\,\big|\, \lVert w_k \rVert_2 - R \,\big| + 10^{-10}\big)^{q}

with :math:`R = 1`, :math:`\eta` = ``lr`` and :math:`q` = ``lr_power`` (0.5 in the CIFAR/STL
presets, 0.2 in the MNIST MLP; :math:`q = 0` gives a constant rate, as Krotov's rule uses).
Learning slows as every norm approaches 1; :func:`convergence` reports the mean
:math:`|\lVert w_k\rVert - 1|` and the fraction of neurons within :math:`10^{-2}` of 1 (the
authors' "R1"). Everything is unit-free (inputs are raw pixels in [0, 1]).

Differences from the authors' code (github.com/NeuromorphicComputing/SoftHebb, f425230): the
rule runs in float32 as theirs; the norm :math:`\lVert w_k\rVert` is taken before the update
of the batch (theirs too); no bias / log-prior (no published deep preset uses one); only
:math:`p = 2`.

One plasticity step is one Numba call (:func:`_step`, parallel over the neurons on both
cores): :math:`U = X W^\top` in register blocks, the factors, :math:`\Delta w` into a scratch
array reused across batches (samples with a zero factor are skipped, which the hard rules and
an underflowed softmax make common), then the normalised, norm-dependent update. No numpy BLAS
inside the step: OpenBLAS's threads and Numba's fight over the two cores (an earlier version
of the step that mixed them took 25 ms instead of 3 ms at batch 10 on this project's 2-core
machine; a historical figure, that version is gone). The torch backend
(:mod:`neurosim.models.plasticity.softhebb_torch`) implements the same equations for dense and
convolutional layers; tests hold the two together.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neurosim.errors import bad

#: rule name -> kernel code
RULES: dict[str, int] = {"soft": 0, "softkrotov": 1, "hard": 2, "krotov": 3}

#: target norm R of every weight vector
RADIUS = 1.0


def check_rule(owner: str, rule: str) -> int:
    """The kernel code of ``rule``; a clear error for an unknown name."""
    if rule not in RULES:
        raise bad(owner, "rule", rule, f"must be one of {sorted(RULES)}")
    return RULES[rule]


def check_positive(owner: str, name: str, value, allow_zero: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise bad(owner, name, value, "must be finite and " + (">= 0" if allow_zero else "> 0"))
    return v


# ------------------------------------------------------------------------------ kernels


def _exp_cut(dtype) -> float:
    """An argument below which ``exp`` is exactly 0 in ``dtype`` (half the smallest
    subnormal: 2^-150 for float32, 2^-1075 for float64), minus a margin."""
    return -105.0 if np.dtype(dtype) == np.float32 else -746.0



@njit(cache=True, nogil=True)
def _factor_row(U, Y, b, rule, t_invert, delta, ranking, cut):
    """Row ``b`` of the plasticity factor ``Y`` from row ``b`` of ``U`` (see
    :func:`postsynaptic`); ``cut`` = :func:`_exp_cut` of the dtype."""
    k_out = U.shape[1]
    win = 0
    for k in range(1, k_out):
        if U[b, k] > U[b, win]:
            win = k
    for k in range(k_out):
        Y[b, k] = 0.0
    if rule == 2:
        Y[b, win] = 1.0
    elif rule == 3:
        order = np.argsort(-U[b], kind="mergesort")
        Y[b, order[0]] = 1.0
        if ranking - 1 < k_out:
            Y[b, order[ranking - 1]] = -delta
    else:
        top = U[b, win]
        s = 0.0
        for k in range(k_out):
            d = (U[b, k] - top) * t_invert
            if d > cut:  # below it exp(d) is exactly 0 in U's dtype: skip the call
                e = math.exp(d)
                Y[b, k] = e
                s += e
        for k in range(k_out):
            Y[b, k] = Y[b, k] / s
            if rule == 1 and k != win:
                Y[b, k] = -Y[b, k]


@njit(cache=True, nogil=True, parallel=True)
def postsynaptic(U, rule, t_invert, delta, ranking, cut=-746.0):
    """The plasticity factor ``Y`` (B, K) of pre-activations ``U`` (B, K) (see module doc).

    ``rule`` is a code of :data:`RULES`; softmax is taken after subtracting the row maximum.
    Ties for the winner go to the lowest index (as ``torch.argmax``).
    """
    Y = np.empty_like(U)
    for b in prange(U.shape[0]):
        _factor_row(U, Y, b, rule, t_invert, delta, ranking, cut)
    return Y


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _preactivation(W, X, U):
    """``U = X W^T`` in place, blocks of 4 neurons x 2 samples per pass over the inputs (each
    loaded weight and input feeds several products; numpy's BLAS threads would compete with
    Numba's for the two cores inside :func:`_step`)."""
    k_out, n_in = W.shape
    nb = X.shape[0]
    nb2 = nb - nb % 2
    for kb in prange(k_out // 4):
        k = 4 * kb
        for b in range(0, nb2, 2):
            s0 = s1 = s2 = s3 = t0 = t1 = t2 = t3 = W.dtype.type(0.0)
            for i in range(n_in):
                x, z = X[b, i], X[b + 1, i]
                w0, w1, w2, w3 = W[k, i], W[k + 1, i], W[k + 2, i], W[k + 3, i]
                s0 += x * w0
                s1 += x * w1
                s2 += x * w2
                s3 += x * w3
                t0 += z * w0
                t1 += z * w1
                t2 += z * w2
                t3 += z * w3
            U[b, k], U[b, k + 1], U[b, k + 2], U[b, k + 3] = s0, s1, s2, s3
            U[b + 1, k], U[b + 1, k + 1], U[b + 1, k + 2], U[b + 1, k + 3] = t0, t1, t2, t3
        for b in range(nb2, nb):
            for j in range(4):
                s = W.dtype.type(0.0)
                for i in range(n_in):
                    s += X[b, i] * W[k + j, i]
                U[b, k + j] = s
    for k in range(k_out - k_out % 4, k_out):
        for b in range(nb):
            s = W.dtype.type(0.0)
            for i in range(n_in):
                s += X[b, i] * W[k, i]
            U[b, k] = s


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _step(W, X, norms, D, Dbits, sign_off, U, Y, rule, t_invert, delta, ranking, lr, lr_power,
          cut):
    """One plasticity step, all in Numba: U, Y, D = dW, W += eta_k D / max|D|.

    ``D`` (K, N) is scratch and ``Dbits`` the same memory seen as integers of its width
    (``sign_off`` masks the sign bit): the maximum of abs(dW) is taken on the bit
    patterns, which order like the magnitudes and, unlike a float max, vectorise (10x here).
    ``U`` and ``Y`` (B, K) receive the pre-activations and factors; ``norms`` (the row norms
    of ``W``) is kept up to date. Samples whose factor is exactly 0 for a neuron (hard rules,
    an underflowed softmax) cost that neuron nothing. Returns max|dW|.
    """
    k_out, n_in = W.shape
    nb = X.shape[0]
    _preactivation(W, X, U)
    for b in prange(nb):
        _factor_row(U, Y, b, rule, t_invert, delta, ranking, cut)
    row_max = np.empty(k_out, dtype=Dbits.dtype)
    for k in prange(k_out):  # D_k = sum_b y_bk x_b - (sum_b y_bk u_bk) w_k, two samples a pass
        c = W.dtype.type(0.0)
        for b in range(nb):
            c += Y[b, k] * U[b, k]
        for i in range(n_in):
            D[k, i] = -c * W[k, i]
        pend = -1
        for b in range(nb):
            y = Y[b, k]
            if y == 0.0:
                continue
            if pend < 0:
                pend = b
                continue
            y0 = Y[pend, k]
            for i in range(n_in):
                D[k, i] += y0 * X[pend, i] + y * X[b, i]
            pend = -1
        if pend >= 0:
            y0 = Y[pend, k]
            for i in range(n_in):
                D[k, i] += y0 * X[pend, i]
        m = Dbits.dtype.type(0)
        for i in range(n_in):
            m = max(m, Dbits[k, i] & sign_off)
        row_max[k] = m
    top = row_max.max()
    scale = D.dtype.type(0.0)
    for k in range(k_out):  # the float whose bits are the largest
        if row_max[k] == top:
            scale = np.abs(D[k]).max()
            break
    scale += W.dtype.type(1e-30)
    for k in prange(k_out):
        e = W.dtype.type(lr * (abs(norms[k] - RADIUS) + 1e-10) ** lr_power / scale)
        s = 0.0
        for i in range(n_in):
            w = W[k, i] + e * D[k, i]
            W[k, i] = w
            s += w * w
        norms[k] = math.sqrt(s)
    return scale


@njit(cache=True, nogil=True, parallel=True)
def _row_norms(W):
    out = np.empty(W.shape[0], dtype=W.dtype)
    for k in prange(W.shape[0]):
        s = 0.0
        for i in range(W.shape[1]):
            s += W[k, i] * W[k, i]
        out[k] = math.sqrt(s)
    return out


# ------------------------------------------------------------------------------ the layer


def init_weights(n_out: int, n_in: int, radius: float, kind: str, rng, dtype=np.float32):
    """Initial weights of norm ~``radius`` (the authors' ``check_dimension``).

    ``kind="normal"``: :math:`N(0, \\sigma^2)`, :math:`\\sigma = r/\\sqrt{N}` (blocks that start
    with batch norm); ``kind="positive"``: :math:`U(0, a)`, :math:`a = \\sqrt{3 r^2 / N}`, so
    that :math:`E\\lVert w\\rVert^2 = r^2` (raw non-negative inputs, e.g. the MNIST MLP).
    """
    if kind == "normal":
        w = rng.normal(0.0, radius / math.sqrt(n_in), size=(n_out, n_in))
    elif kind == "positive":
        w = rng.uniform(0.0, math.sqrt(3.0 * radius ** 2 / n_in), size=(n_out, n_in))
    else:
        raise bad("init_weights", "kind", kind, "must be 'normal' or 'positive'")
    return np.ascontiguousarray(w, dtype=dtype)


class SoftHebbDense:
    """A dense soft-WTA layer of ``n_out`` neurons on ``n_in`` inputs (Numba CPU backend).

    Parameters
    ----------
    n_in, n_out
        Inputs :math:`N` and neurons :math:`K`.
    rule
        ``"soft"``, ``"softkrotov"``, ``"hard"`` or ``"krotov"`` (see the module doc).
    t_invert
        Inverse softmax temperature :math:`1/\\tau` (unit-free).
    lr, lr_power
        :math:`\\eta` and :math:`q` of the adaptive learning rate.
    radius
        Initial weight norm :math:`r` (35 for the MNIST MLP, 25 for conv nets).
    init
        ``"positive"`` (uniform, non-negative) or ``"normal"`` (see :func:`init_weights`).
    delta, ranking
        Krotov's anti-Hebbian strength :math:`\\Delta` and rank (``rule="krotov"`` only).
    seed
        Seed of the initial weights.
    dtype
        ``numpy.float32`` (default, as the paper) or ``numpy.float64``.
    """

    def __init__(self, n_in: int, n_out: int, rule: str = "softkrotov", t_invert: float = 1.0,
                 lr: float = 0.08, lr_power: float = 0.5, radius: float = 25.0,
                 init: str = "normal", delta: float = 0.4, ranking: int = 2, seed: int = 0,
                 dtype=np.float32):
        owner = "SoftHebbDense"
        for name, v in (("n_in", n_in), ("n_out", n_out), ("ranking", ranking)):
            if int(v) != v or v < 1:
                raise bad(owner, name, v, "must be a positive integer")
        self.rule = rule
        self._code = check_rule(owner, rule)
        self.t_invert = check_positive(owner, "t_invert", t_invert)
        self.lr = check_positive(owner, "lr", lr, allow_zero=True)
        self.lr_power = check_positive(owner, "lr_power", lr_power, allow_zero=True)
        self.delta = check_positive(owner, "delta", delta, allow_zero=True)
        self.ranking = int(ranking)
        if self._code == 3 and self.ranking > n_out:
            raise bad(owner, "ranking", ranking, f"exceeds the number of neurons {n_out}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise bad(owner, "dtype", self.dtype, "must be float32 or float64")
        rng = np.random.default_rng(seed)
        self.weight = init_weights(int(n_out), int(n_in), check_positive(owner, "radius", radius),
                                   init, rng, self.dtype)
        self._norms = _row_norms(self.weight)
        self._scratch = None  # dW of a batch, (K, N), allocated once

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    def set_weights(self, w) -> None:
        """Replace the weights (copied, cast to the layer's dtype)."""
        w = np.ascontiguousarray(w, dtype=self.dtype)
        if w.shape != self.weight.shape:
            raise bad("SoftHebbDense", "weights", w.shape, f"must have shape {self.weight.shape}")
        self.weight = w.copy()
        self._norms = _row_norms(self.weight)

    def _inputs(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if X.ndim == 1:
            X = X[None]
        if X.ndim != 2 or X.shape[1] != self.n_in or X.shape[0] == 0:
            raise bad("SoftHebbDense", "X", X.shape, f"must have shape (batch >= 1, {self.n_in})")
        return X

    def preactivation(self, X) -> np.ndarray:
        """:math:`U = X W^\\top`, shape (B, K)."""
        return self._inputs(X) @ self.weight.T

    def postsynaptic(self, U) -> np.ndarray:
        """The plasticity factor :math:`Y` of pre-activations ``U`` (B, K)."""
        U = np.ascontiguousarray(U, dtype=self.dtype)
        return postsynaptic(U, self._code, self.dtype.type(self.t_invert),
                            self.dtype.type(self.delta), self.ranking, _exp_cut(self.dtype))

    def delta_weight(self, X, normalise: bool = True) -> np.ndarray:
        """:math:`\\Delta w` of one batch (normalised by the layer max unless told not)."""
        X = self._inputs(X)
        U = X @ self.weight.T
        Y = self.postsynaptic(U)
        dW = Y.T @ X - (Y * U).sum(axis=0)[:, None] * self.weight
        if normalise:
            dW /= np.abs(dW).max() + self.dtype.type(1e-30)
        return dW

    def learning_rates(self) -> np.ndarray:
        """:math:`\\eta_k` of every neuron at the current weights."""
        return self.lr * (np.abs(self._norms - RADIUS) + 1e-10) ** self.lr_power

    def update(self, X) -> np.ndarray:
        """One plasticity step on the batch ``X`` (B, N); returns its pre-activations ``U``."""
        X = self._inputs(X)
        if self._scratch is None or self._scratch.shape != self.weight.shape:
            self._scratch = np.empty_like(self.weight)
        bits = np.int32 if self.dtype == np.float32 else np.int64
        sign_off = bits(np.iinfo(bits).max)
        U = np.empty((len(X), self.n_out), dtype=self.dtype)
        f = self.dtype.type
        _step(self.weight, X, self._norms, self._scratch, self._scratch.view(bits), sign_off, U,
              np.empty_like(U), self._code,
              f(self.t_invert), f(self.delta), self.ranking, f(self.lr), f(self.lr_power),
              _exp_cut(self.dtype))
        return U

    def fit(self, X, batch_size: int = 32, epochs: int = 1, progress: bool = False):
        """Unsupervised training on the rows of ``X`` in order, ``epochs`` passes."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise bad("SoftHebbDense.fit", "X", X.shape, f"must have shape (n, {self.n_in})")
        if int(batch_size) != batch_size or batch_size < 1:
            raise bad("SoftHebbDense.fit", "batch_size", batch_size, "must be >= 1")
        starts = range(0, len(X), int(batch_size))
        bar = _progress(len(starts) * epochs, progress, "SoftHebb")
        for _ in range(int(epochs)):
            for s in starts:
                self.update(X[s:s + batch_size])
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return self

    def convergence(self) -> tuple[float, float]:
        """(mean :math:`|\\lVert w_k\\rVert - 1|`, fraction of neurons with it < 0.01)."""
        return convergence(self.weight)


def convergence(W) -> tuple[float, float]:
    """Convergence measures of weights ``W`` (K, ...): mean |‖w_k‖ − 1| and the R1 fraction."""
    W = np.asarray(W)
    dev = np.abs(np.linalg.norm(W.reshape(W.shape[0], -1).astype(np.float64), axis=1) - RADIUS)
    return float(dev.mean()), float(np.mean(dev < 1e-2))


def _progress(total: int, on: bool, desc: str):
    if not on:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the cli extra
        return None
    return tqdm(total=total, desc=desc, unit="batch")
