"""Kernels shared by every plasticity rule: traces that decay analytically, and the arrays of
one plastic projection.

A trace of unit ``i`` is stored as its value ``tr[m, i]`` just after its last jump and the
step ``last[i]`` of that jump. Read at step ``stamp`` it is

    tr[m, i] * exp(-(stamp - last[i]) * rate[m]),    rate[m] = dt / tau_m,

where the factor comes from a table for the first ``table.shape[1]`` steps (the table holds
exactly ``math.exp(-d * rate[m])``, so both ways give the same number). Nothing is done
between spikes: a trace costs work only when a spike reads or moves it.

The drivers that walk synapses and call a rule's hooks are generated per rule by
:mod:`neurosim.codegen` (a cached kernel cannot take the hook as an argument); they are
built from :func:`trace_at` and :func:`trace_jump`.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

#: length of the decay tables (steps); older traces use math.exp directly
TABLE_STEPS = 4096

#: the arrays of one plastic projection, passed to the generated loop as one argument.
#: ``*_par`` rows: 0 rate = dt/tau, 1 keep (1 all-to-all, 0 nearest), 2 increment.
PlasticArrays = namedtuple("PlasticArrays", [
    "syn",        # float64 (n_syn, nnz): per-synapse state besides the weight
    "coef",       # float64 (n_coef,): the rule's derived coefficients
    "pre_tr", "pre_last", "pre_tab", "pre_par",      # presynaptic traces (2, n_pre) ...
    "post_tr", "post_last", "post_tab", "post_par",  # postsynaptic traces (2, n_post) ...
    "col_ptr",    # int64 (n_post + 1): synapses onto target q are col_syn[col_ptr[q]:...]
    "col_syn",    # int32 (int64 from 2^31 synapses) (nnz): CSR index of each synapse, by target
    "col_pre",    # int32 (nnz): source of each synapse, by target
    "post_state",  # float64 (n_post_state, n_post): per-target state of rate rules (BCM)
])


def decay_params(taus, keeps, incs, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(table, par) of up to two traces: ``par`` rows rate/keep/inc, ``table[m, d]`` =
    ``exp(-d * rate[m])``. Missing traces get rate 0, keep 1, increment 0 (they stay 0)."""
    par = np.zeros((3, 2))
    par[1] = 1.0
    for m, (tau, keep, inc) in enumerate(zip(taus, keeps, incs, strict=True)):
        par[:, m] = (dt / tau, keep, inc)
    table = np.empty((2, TABLE_STEPS))
    for m in range(2):
        r = float(par[0, m])
        table[m] = [math.exp(-d * r) for d in range(TABLE_STEPS)]
    return table, par


@njit(inline="always")
def trace_at(tr, m, i, last, stamp, table, par):
    """Trace m of unit i at step ``stamp``: its last jump decayed. Spike hooks read it before
    a spike of unit i at ``stamp`` itself jumps it; rate rules read it after."""
    d = stamp - last[i]
    if d < table.shape[1]:
        return tr[m, i] * table[m, d]
    return tr[m, i] * math.exp(-d * par[0, m])


@njit(inline="always")
def trace_jump(tr, last, i, stamp, table, par):
    """Unit i spiked at ``stamp``: every trace jumps to ``keep * x(stamp) + inc``."""
    for m in range(2):
        tr[m, i] = par[1, m] * trace_at(tr, m, i, last, stamp, table, par) + par[2, m]
    last[i] = stamp


@njit(cache=True, nogil=True)
def jump_traces(spk, seg_lo, seg_cnt, tr, last, stamp, table, par):
    """The traces of every unit that spiked (all segments) jump at ``stamp``."""
    for c in range(seg_cnt.size):
        for j in range(seg_lo[c], seg_lo[c] + seg_cnt[c]):
            trace_jump(tr, last, spk[j], stamp, table, par)


@njit(cache=True)
def by_target(indptr, post, n_post):
    """The CSC view of a CSR projection: (col_ptr, col_syn, col_pre), synapses onto each
    target in order of their source."""
    nnz = post.size
    col_ptr = np.zeros(n_post + 1, np.int64)
    for k in range(nnz):
        col_ptr[post[k] + 1] += 1
    for q in range(n_post):
        col_ptr[q + 1] += col_ptr[q]
    fill = col_ptr[:-1].copy()
    col_syn = np.empty(nnz, np.int64)
    col_pre = np.empty(nnz, np.int32)
    for i in range(indptr.size - 1):
        for k in range(indptr[i], indptr[i + 1]):
            q = post[k]
            col_syn[fill[q]] = k
            col_pre[fill[q]] = i
            fill[q] += 1
    return col_ptr, col_syn, col_pre
