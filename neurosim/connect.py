"""Connectivity rules: each turns population sizes into (pre, post) index pairs.

Every rule is a small frozen dataclass with ``pairs(n_pre, n_post, rng, same)`` returning two
int64 arrays. ``same`` is True when pre and post are the same population; then ``autapses``
decides whether i -> i is allowed. All draws use the network's numpy ``Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import bad


def _drop_autapses(pre, post, same, autapses):
    if same and not autapses:
        keep = pre != post
        return pre[keep], post[keep]
    return pre, post


@dataclass(frozen=True)
class AllToAll:
    """Every pre unit to every post unit."""

    autapses: bool = False

    def pairs(self, n_pre, n_post, rng, same):
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        return _drop_autapses(pre, post, same, self.autapses)


@dataclass(frozen=True)
class OneToOne:
    """Unit i to unit i (sizes must be equal)."""

    def pairs(self, n_pre, n_post, rng, same):
        if n_pre != n_post:
            raise bad("one_to_one", "size", (n_pre, n_post), "pre and post sizes differ")
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()


@dataclass(frozen=True)
class FixedProbability:
    """Each (pre, post) pair independently with probability ``p`` (Bernoulli).

    Drawn exactly by geometric skipping over the flattened pre x post index space: the gaps
    between successive synapses are Geometric(p), so cost grows with the number of synapses,
    not with n_pre x n_post. Pairs come out sorted by (pre, post).
    """

    p: float
    autapses: bool = False

    def __post_init__(self):
        if not (0.0 <= self.p <= 1.0):
            raise bad("fixed_prob", "p", self.p, "must be in [0, 1]")

    def pairs(self, n_pre, n_post, rng, same):
        indptr, post = self.csr(n_pre, n_post, rng, same)
        return np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(indptr)), post

    def csr(self, n_pre, n_post, rng, same):
        """(indptr, post) directly, row block by row block: the only array of synapse length
        ever allocated is the int32 ``post`` (4 bytes per synapse)."""
        p = self.p
        indptr = np.zeros(n_pre + 1, np.int64)
        if p == 0.0 or n_pre * n_post == 0:
            return indptr, np.empty(0, np.int32)
        mean = n_pre * n_post * p
        post = np.empty(int(mean + 6 * np.sqrt(mean) + 1024), np.int32)
        fill = 0
        rows = max(1, min(n_pre, int(2**17 / max(n_post * p, 1e-12))))  # ~2^17 synapses
        for r0 in range(0, n_pre, rows):
            r1 = min(n_pre, r0 + rows)
            flat = self._flat(r1 - r0, n_post, rng)
            pre_l, post_l = np.divmod(flat, n_post)
            if same and not self.autapses:
                keep = pre_l + r0 != post_l
                pre_l, post_l = pre_l[keep], post_l[keep]
            if fill + post_l.size > post.size:
                post = np.resize(post, 2 * (fill + post_l.size))
            post[fill:fill + post_l.size] = post_l
            fill += post_l.size
            indptr[r0 + 1:r1 + 1] = np.bincount(pre_l, minlength=r1 - r0)
        np.cumsum(indptr, out=indptr)
        return indptr, post[:fill].copy() if post.size - fill > 1024 + fill // 64 else post[:fill]

    def _flat(self, n_rows, n_post, rng):
        """Sorted flat indices (row * n_post + col) of the synapses of an n_rows x n_post block,
        by geometric skipping: the gaps between successive synapses are Geometric(p)."""
        total = n_rows * n_post
        if self.p == 1.0:
            return np.arange(total, dtype=np.int64)
        chunks, pos, expected = [], -1, total * self.p
        while True:
            m = int(expected + 5.0 * np.sqrt(expected) + 100)
            flat = pos + np.cumsum(rng.geometric(self.p, size=m), dtype=np.int64)
            if flat[-1] >= total:
                chunks.append(flat[flat < total])
                return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
            chunks.append(flat)
            pos = int(flat[-1])
            expected = (total - pos) * self.p


def _fixed_degree(n_fixed, n_other, k, rng, multapses, same, autapses, name):
    """For each unit on the fixed side, k partners drawn from the other side."""
    if k < 0 or (not multapses and k > n_other - (1 if same and not autapses else 0)):
        raise bad(name, "k", k, f"is impossible with {n_other} candidates "
                  f"(multapses={multapses})")
    if multapses:
        other = rng.integers(0, n_other, size=(n_fixed, k), dtype=np.int64)
        if same and not autapses:
            # redraw i -> i among the n_other - 1 others: shift values >= i up by one
            other = rng.integers(0, n_other - 1, size=(n_fixed, k), dtype=np.int64)
            other += other >= np.arange(n_fixed)[:, None]
    else:
        other = np.empty((n_fixed, k), np.int64)
        for i in range(n_fixed):
            cand = n_other - 1 if same and not autapses else n_other
            pick = rng.choice(cand, size=k, replace=False)
            if same and not autapses:
                pick = pick + (pick >= i)
            other[i] = np.sort(pick)
    fixed = np.repeat(np.arange(n_fixed, dtype=np.int64), k)
    return fixed, other.ravel()


@dataclass(frozen=True)
class FixedInDegree:
    """Each post unit receives exactly ``k`` synapses from uniformly drawn pre units."""

    k: int
    multapses: bool = True
    autapses: bool = False

    def pairs(self, n_pre, n_post, rng, same):
        post, pre = _fixed_degree(n_post, n_pre, self.k, rng, self.multapses, same,
                                  self.autapses, "fixed_indegree")
        return pre, post


@dataclass(frozen=True)
class FixedOutDegree:
    """Each pre unit sends exactly ``k`` synapses to uniformly drawn post units."""

    k: int
    multapses: bool = True
    autapses: bool = False

    def pairs(self, n_pre, n_post, rng, same):
        return _fixed_degree(n_pre, n_post, self.k, rng, self.multapses, same, self.autapses,
                             "fixed_outdegree")


@dataclass(frozen=True)
class Explicit:
    """The pairs given: ``pre[j] -> post[j]``. Weight/delay arrays follow this order."""

    pre: np.ndarray
    post: np.ndarray

    def pairs(self, n_pre, n_post, rng, same):
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        if pre.shape != post.shape or pre.ndim != 1:
            raise bad("arrays", "pre/post", (pre.shape, post.shape), "must be 1-D, same length")
        if not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
            raise bad("arrays", "pre/post", (pre.dtype, post.dtype), "must be integer arrays")
        for name, a, n in (("pre", pre, n_pre), ("post", post, n_post)):
            if a.size and (a.min() < 0 or a.max() >= n):
                raise bad("arrays", name, (int(a.min()), int(a.max())),
                          f"has indices outside 0..{n - 1}")
        return pre.astype(np.int64), post.astype(np.int64)


def all_to_all(autapses: bool = False) -> AllToAll:
    return AllToAll(autapses)


def one_to_one() -> OneToOne:
    return OneToOne()


def fixed_prob(p: float, autapses: bool = False) -> FixedProbability:
    return FixedProbability(float(p), autapses)


def fixed_indegree(k: int, multapses: bool = True, autapses: bool = False) -> FixedInDegree:
    return FixedInDegree(int(k), multapses, autapses)


def fixed_outdegree(k: int, multapses: bool = True, autapses: bool = False) -> FixedOutDegree:
    return FixedOutDegree(int(k), multapses, autapses)


def arrays(pre, post) -> Explicit:
    return Explicit(np.asarray(pre), np.asarray(post))
