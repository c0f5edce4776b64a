"""Projections: sparse synapses with weights and integer delays, stored as CSR by source.

A compiled projection holds, for ``n_pre`` source units and ``nnz`` synapses:

=============  ==================  ==============================================
``indptr``     int64 (n_pre + 1)   synapses of source i are ``indptr[i]:indptr[i+1]``
``post``       int32 (nnz)         target unit, increasing within a row
``weight``     float64 (nnz or 1)  length 1 when every synapse has the same weight
``delay``      int32 (nnz or 1)    delay in steps (>= 1); length 1 when homogeneous
=============  ==================  ==============================================

A scalar weight or delay is stored once (as NEST's "common properties"), so a static network
with one weight per projection costs 4 bytes per synapse plus the row pointers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import resolve
from .errors import bad
from .units import to_steps

#: longest delay, in steps, a projection may have (ring buffers are allocated per step)
MAX_DELAY_STEPS = 1 << 20


@dataclass
class CSR:
    indptr: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.post.size)

    @property
    def max_delay(self) -> int:
        return int(self.delay.max()) if self.delay.size else 1

    def pre(self) -> np.ndarray:
        """Source index of every synapse (expanded from the row pointers)."""
        return np.repeat(np.arange(self.indptr.size - 1), np.diff(self.indptr))

    def weights(self) -> np.ndarray:
        """Per-synapse weights (a shared weight expanded)."""
        return np.broadcast_to(self.weight, (self.nnz,)) if self.weight.size == 1 else self.weight

    def delays(self) -> np.ndarray:
        """Per-synapse delays in steps (a shared delay expanded)."""
        return np.broadcast_to(self.delay, (self.nnz,)) if self.delay.size == 1 else self.delay

    def nbytes(self) -> int:
        return self.indptr.nbytes + self.post.nbytes + self.weight.nbytes + self.delay.nbytes


class Projection:
    """Synapses from population ``pre`` onto input ``port`` of population ``post``.

    Parameters
    ----------
    pre, post : population names.
    rule : a rule of :mod:`neurosim.connect`.
    weight : scalar, array (one per synapse, in the rule's pair order) or distribution;
        units of the target port (pA for current-based ``_psc_exp`` ports, mV for delta ports).
    delay : ms; scalar, array or distribution; each delay is rounded to whole steps by
        :func:`neurosim.units.to_steps` and must be at least one step.
    port : the target model's input port (``"exc"``, ``"inh"``).
    plasticity : a :class:`neurosim.Plasticity`, or None for fixed weights.
    """

    def __init__(self, name, pre, post, rule, weight, delay, port, plasticity=None):
        self.name, self.pre, self.post, self.rule = name, pre, post, rule
        self.weight, self.delay, self.port = weight, delay, port
        self.plasticity = plasticity

    def build(self, n_pre: int, n_post: int, rng: np.random.Generator, dt: float) -> CSR:
        owner = f"Projection '{self.name}'"
        same = self.pre == self.post
        order = None
        if hasattr(self.rule, "csr"):  # the rule builds rows directly (sorted, lean)
            indptr, post = self.rule.csr(n_pre, n_post, rng, same)
        else:
            pre, post = self.rule.pairs(n_pre, n_post, rng, same)
            # sort by (pre, post) unless the rule already produced that order
            step = (pre[1:] > pre[:-1]) | ((pre[1:] == pre[:-1]) & (post[1:] >= post[:-1]))
            if not np.all(step):
                order = np.lexsort((post, pre))
                pre, post = pre[order], post[order]
            indptr = np.zeros(n_pre + 1, np.int64)
            np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
            del pre
        nnz = post.size

        def values(v, what):
            if np.ndim(v) == 0 and not hasattr(v, "sample"):
                return np.array([float(v)])
            arr = resolve(v, nnz, rng)
            if arr.shape != (nnz,):
                raise bad(owner, what, f"array of shape {arr.shape}",
                          f"must be a scalar, a distribution or have one value per synapse "
                          f"({nnz})")
            return arr[order] if order is not None and not hasattr(v, "sample") else arr

        w = values(self.weight, "weight")
        if not np.all(np.isfinite(w)):
            raise bad(owner, "weight", float(w[~np.isfinite(w)][0]), "must be finite")
        d_ms = values(self.delay, "delay")
        if not np.all(np.isfinite(d_ms)):
            raise bad(owner, "delay", float(d_ms[~np.isfinite(d_ms)][0]), "must be finite (ms)")
        d = to_steps(d_ms, dt)
        if d.size and d.min() < 1:
            raise bad(owner, "delay", float(d_ms[np.argmin(d)]),
                      f"is below one step (dt = {dt} ms); every delay must be >= dt")
        if d.size and d.max() > MAX_DELAY_STEPS:
            raise bad(owner, "delay", float(d_ms.max()), f"exceeds {MAX_DELAY_STEPS} steps")
        if d.size > 1 and np.all(d == d[0]):
            d = d[:1]
        return CSR(indptr, post.astype(np.int32, copy=False), w, d.astype(np.int32))
