"""The prefetch hint compiles for 1-d arrays of any dtype and index type, changes nothing, and
refuses what it does not support."""

import numba
import numpy as np
import pytest
from numba import njit

from neurosim.kernels.prefetch import prefetch, prefetch_read


@njit
def gather(w, idx, ahead):
    s = 0.0
    for j in range(idx.size):
        if j + ahead < idx.size:
            prefetch(w, idx[j + ahead])
            prefetch_read(idx, j + ahead)
        w[idx[j]] += 1.0
        s += w[idx[j]]
    return s


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_prefetch_changes_nothing(dtype, itype):
    rng = np.random.default_rng(0)
    w = rng.random(10_000).astype(dtype)
    idx = rng.integers(0, w.size, 5_000).astype(itype)
    a, b = w.copy(), w.copy()
    assert gather(a, idx, 16) == gather(b, idx, idx.size)  # with and without prefetches
    np.testing.assert_array_equal(a, b)


def test_prefetch_refuses_2d_arrays():
    @njit
    def bad(w):
        prefetch(w, 0)

    @njit
    def bad_read(w):
        prefetch_read(w, 0)

    for f in (bad, bad_read):
        with pytest.raises(numba.core.errors.TypingError):
            f(np.zeros((2, 2)))
