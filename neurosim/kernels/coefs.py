"""Coefficients that are population-wide or per unit, read the same way by every kernel.

A neuron kernel gets ``coef`` in one of two forms (:func:`pack` makes it):

- float64 ``(n_coef,)``: every parameter of the population is one number (the usual case);
- a tuple of ``n_coef`` items, each a float (a coefficient the units share) or a contiguous
  float64 ``(n,)`` row (one that differs between units), where some parameter was given
  per unit (``tau_m=Uniform(8, 12)`` makes the propagators of ``tau_m`` rows; ``V_th``,
  ``E_L`` ... stay numbers).

A kernel written with

    V_th = row(coef, 8, lo, hi)          # before the loop (j a constant)
    ...
    fire = v >= each(V_th, i)            # in the loop over units lo + i

compiles, for the array, to exactly the code it had with ``V_th = coef[8]`` and
``v >= V_th`` (``row`` is the element, ``each`` returns it unchanged: the population-wide loop
pays nothing), and for a tuple to a loop that reads a row only for the coefficients that
differ between units. Numba compiles a kernel once per form (per set of differing
coefficients), so changing values never recompiles; making another coefficient per unit does.

Numba's cache does not see changes to this file in the kernels that use it: after editing it,
clear the ``__pycache__`` of the model files.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload


def pack(coef: np.ndarray):
    """The kernel's ``coef`` from the coefficient table: ``(n_coef,)`` unchanged; from
    ``(n_coef, n)`` a tuple with a float for each row whose values are all the same and the
    row (contiguous) for the others, or the ``(n_coef,)`` array if no row differs."""
    if coef.ndim == 1:
        return coef
    same = np.all(coef == coef[:, :1], axis=1)
    if same.all():
        return np.ascontiguousarray(coef[:, 0])
    return tuple(float(r[0]) if s else np.ascontiguousarray(r)
                 for r, s in zip(coef, same, strict=True))


def nbytes(coef) -> int:
    """Bytes held by a packed ``coef``."""
    if isinstance(coef, tuple):
        return sum(c.nbytes if isinstance(c, np.ndarray) else 8 for c in coef)
    return coef.nbytes


def row(coef, j, lo, hi):
    """Coefficient ``j`` (a constant) for units ``lo <= u < hi``: a number (``coef[j]`` of
    the array, or a float item of the tuple) or the array ``coef[j][lo:hi]``."""
    c = coef[j]
    return c if np.ndim(c) == 0 else c[lo:hi]


def each(c, i):
    """The value for the ``i``-th unit of a :func:`row`: ``c`` itself (a number) or ``c[i]``."""
    return c[i] if np.ndim(c) else c


# inlined at Numba's level: the loops then vectorise as with ``coef[j]``. No prefer_literal:
# the array form types once for every j; only the tuple form is retried with j as a literal
# (preferring literals compiled each call site apart: 0.3 s more per kernel on a cold cache)
@overload(row, inline="always")
def _row(coef, j, lo, hi):
    if isinstance(coef, types.Array):
        return lambda coef, j, lo, hi: coef[j]
    if isinstance(coef, types.BaseTuple):
        if not isinstance(j, types.IntegerLiteral):
            raise TypingError("row(coef, j, lo, hi): j must be a constant for per-unit coef")
        k = j.literal_value
        if isinstance(coef.types[k], types.Array):
            return lambda coef, j, lo, hi: coef[k][lo:hi]
        return lambda coef, j, lo, hi: coef[k]
    return None


@overload(each, inline="always")
def _each(c, i):
    if isinstance(c, types.Array):
        return lambda c, i: c[i]
    return lambda c, i: c
