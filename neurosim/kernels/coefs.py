"""Coefficients that are population-wide or per unit, read the same way by every kernel.

A neuron kernel gets ``coef`` either as float64 ``(n_coef,)`` (every parameter of the
population one number: the usual case) or as float64 ``(n_coef, n)`` (some parameter given
per unit, e.g. ``tau_m=Uniform(8, 12)``: every coefficient then has one value per unit).
Numba compiles a kernel once for each of the two array types, so a kernel written with

    V_th = row(coef, 8, lo, hi)          # before the loop
    ...
    fire = v >= each(V_th, i)            # in the loop over units lo + i

compiles, for a 1-D ``coef``, to exactly the code it had with ``V_th = coef[8]`` and
``v >= V_th`` (``row`` is the element, ``each`` returns it unchanged: the population-wide
loop pays nothing), and for a 2-D one to a loop over the contiguous row
``coef[8, lo:hi]``.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload


def row(coef, j, lo, hi):
    """Coefficient ``j`` for units ``lo <= u < hi``: the number ``coef[j]`` (1-D ``coef``) or
    the array ``coef[j, lo:hi]`` (2-D)."""
    return coef[j] if coef.ndim == 1 else coef[j, lo:hi]


def each(c, i):
    """The value for the ``i``-th unit of a :func:`row`: ``c`` itself (a number) or ``c[i]``."""
    return c[i] if np.ndim(c) else c


@overload(row, inline="always")
def _row(coef, j, lo, hi):
    if coef.ndim == 1:
        return lambda coef, j, lo, hi: coef[j]
    return lambda coef, j, lo, hi: coef[j, lo:hi]


@overload(each, inline="always")
def _each(c, i):
    if isinstance(c, types.Array):
        return lambda c, i: c[i]
    return lambda c, i: c
