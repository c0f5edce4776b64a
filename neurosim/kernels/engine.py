"""The engine's kernels: spike compaction, event delivery, recording, current changes.

Spikes of a population in one step are kept as *segments*: the units of segment ``c`` are
``spk[seg_lo[c] : seg_lo[c] + seg_cnt[c]]``. A neuron population has one segment per update
chunk (one per thread), a source has one segment into its event list. Every kernel here
walks segments in order, so the order of work, and so every floating-point sum, is the same
for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .prefetch import prefetch_read


@njit(cache=True)
def compact(spiked, lo, hi, spk):
    """Write the indices i in [lo, hi) with spiked[i] != 0 to spk[lo:], return their count.

    Scans eight flags at a time (spikes are rare, so most words are zero).
    """
    n = lo
    i = lo
    head = min(hi, (lo + 7) // 8 * 8)
    while i < head:
        if spiked[i]:
            spk[n] = i
            n += 1
        i += 1
    words = spiked.view(np.uint64)
    w_end = hi // 8
    for w in range(i // 8, w_end):
        if words[w] != 0:
            for j in range(8 * w, 8 * w + 8):
                if spiked[j]:
                    spk[n] = j
                    n += 1
    for j in range(max(i, 8 * w_end), hi):
        if spiked[j]:
            spk[n] = j
            n += 1
    return n - lo


@njit(inline="always")
def prefetch_rows(spk, lo, cnt, bounds, post):
    """Ask for the target lists ``post[bounds[i, 0] : bounds[i, -1]]`` of the spikes
    ``spk[lo : lo + cnt]`` (one read prefetch per 64-byte line).

    Called as soon as a step's spikes are known, one step before they are delivered: a
    spike's target list is a random row of ``post``, usually a cache miss, and a step has
    too few spikes for the misses of the delivery itself to overlap much. Inlined: it is
    called once per step, population and projection, mostly with no spike.
    """
    last = bounds.shape[1] - 1
    step = 64 // post.itemsize
    for j in range(lo, lo + cnt):
        i = spk[j]
        for x in range(bounds[i, 0], bounds[i, last], step):
            prefetch_read(post, x)


@njit(cache=True)
def add_weights(spk, seg_lo, seg_cnt, bounds, col, post, weight, x):
    """``x[post[k]] += weight[k]`` (``weight[0]`` if shared) for the synapses
    ``bounds[i, col] : bounds[i, col + 1]`` of every spiking unit i, in spike order.

    ``x`` is a ring slot (:func:`deliver`) or, for a projection whose weights jump straight
    into a state variable of its targets (``NeuronSpec.jumps``), that state row.
    """
    w_shared = weight.size == 1
    w0 = weight[0]
    for c in range(seg_cnt.size):
        for j in range(seg_lo[c], seg_lo[c] + seg_cnt[c]):
            i = spk[j]
            if w_shared:
                for k in range(bounds[i, col], bounds[i, col + 1]):
                    x[post[k]] += w0
            else:
                for k in range(bounds[i, col], bounds[i, col + 1]):
                    x[post[k]] += weight[k]


@njit(cache=True)
def deliver(spk, seg_lo, seg_cnt, bounds, col, post, weight, delay, ring, port, slot):
    """Add the weights of all synapses of the spiking units into the target ring buffer.

    A synapse with delay ``d`` (steps) of a unit that fired in step k lands in ring slot
    ``(k + d) mod L``, where ``slot = k mod L`` and ``L = ring.shape[0] > max delay``. Only
    the synapses ``bounds[i, col] : bounds[i, col + 1]`` of row i are walked: with one column
    pair per thread the threads write disjoint target ranges.
    """
    L = ring.shape[0]
    if delay.size == 1:
        s = slot + delay[0]
        if s >= L:
            s -= L
        add_weights(spk, seg_lo, seg_cnt, bounds, col, post, weight, ring[s, port])
        return
    w_shared = weight.size == 1
    w0 = weight[0]
    for c in range(seg_cnt.size):
        for j in range(seg_lo[c], seg_lo[c] + seg_cnt[c]):
            i = spk[j]
            for k in range(bounds[i, col], bounds[i, col + 1]):
                s = slot + delay[k]
                if s >= L:
                    s -= L
                ring[s, port, post[k]] += w0 if w_shared else weight[k]


@njit(cache=True)
def record_spikes(spk, seg_lo, seg_cnt, stamp, buf_t, buf_i, fill):
    """Append (stamp, unit) for every spike of this step; fill[0] is the buffer's fill."""
    n = fill[0]
    for c in range(seg_cnt.size):
        for j in range(seg_lo[c], seg_lo[c] + seg_cnt[c]):
            buf_t[n] = stamp
            buf_i[n] = spk[j]
            n += 1
    fill[0] = n


@njit(cache=True)
def record_state(row, idx, buf, fill):
    """Copy row[idx] into the next line of buf."""
    n = fill[0]
    for j in range(idx.size):
        buf[n, j] = row[idx[j]]
    fill[0] = n + 1


@njit(cache=True, nogil=True)
def record_weights(w, idx, cols, bounds, t, buf, fill):
    """Thread t's share of one weight sample: ``buf[fill[0], c] = w[idx[c]]`` for the columns
    ``c = cols[bounds[t]:bounds[t + 1]]`` (synapses onto its own targets). A weight shared
    by all synapses is stored once (``w.size == 1``)."""
    row = fill[0]
    shared = w.size == 1
    for x in range(bounds[t], bounds[t + 1]):
        c = cols[x]
        buf[row, c] = w[0] if shared else w[idx[c]]


@njit(cache=True)
def apply_currents(k, steps, delta, idx, pos, i_ext):
    """Apply every current change scheduled up to step k (pos[0]: next change);
    ``delta[p, j]`` is change p of unit ``idx[j]``."""
    p = pos[0]
    while p < steps.size and steps[p] <= k:
        for j in range(idx.size):
            i_ext[idx[j]] += delta[p, j]
        p += 1
    pos[0] = p


def row_bounds(indptr, post, cuts):
    """bounds[i, t] = first synapse of row i whose target is >= cuts[t] (targets sorted);
    the last column is the row's end. (numpy around the compiled search: compiled, the 2-d
    column assignments alone took Numba ~2.3 s to compile on a cold cache.)"""
    bounds = np.empty((indptr.size - 1, cuts.size), np.int64)
    bounds[:, 0] = indptr[:-1]
    bounds[:, -1] = indptr[1:]
    move_cuts(indptr, post, cuts, bounds)
    return bounds


@njit(cache=True)
def move_cuts(indptr, post, cuts, bounds):
    """Fill the inner columns of ``bounds`` (see :func:`row_bounds`) for the inner ``cuts``
    by binary search in each row: at build, and after the units were redistributed between
    threads (the first and last columns, a row's start and end, do not change)."""
    for i in range(indptr.size - 1):
        for t in range(1, cuts.size - 1):
            lo = indptr[i]
            hi = indptr[i + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                if post[mid] < cuts[t]:
                    lo = mid + 1
                else:
                    hi = mid
            bounds[i, t] = lo
