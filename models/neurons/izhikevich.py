r"""Izhikevich (2003) neuron, with NEST's ``izhikevich`` discretisation.

.. math::

    \dot v = 0.04 v^2 + 5 v + 140 - u + I_e + I_{ext}, \qquad \dot u = a (b v - u)

    \text{if } v \ge V_{th}: \quad v \leftarrow c, \quad u \leftarrow u + d

v in mV, u in mV/ms, currents in "pA" as in NEST (the model absorbs C_m into its units), t in
ms. One forward-Euler step with both updates using the old values (NEST's
``consistent_integration``): ``v' = v + h (0.04 v^2 + 5 v + 140 - u + I)`` plus the weights
arriving this step (mV, both ports), ``u' = u + h a (b v - u)``; ``v' <- max(v', V_min)``; then
the threshold test and reset. There is no closed form: tests compare against a slow
pure-Python loop of these equations and against NEST.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar


def _derive(p, dt):
    return (dt, p["a"], p["b"], p["c"], p["d"], p["I_e"], p["V_th"], p["V_min"])


@njit(cache=True)
def update_izhikevich(lo, hi, state, coef, inp, i_ext, spiked):
    h, a, b, c = row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi), \
        row(coef, 3, lo, hi)
    d, I_e, V_th, V_min = row(coef, 4, lo, hi), row(coef, 5, lo, hi), row(coef, 6, lo, hi), \
        row(coef, 7, lo, hi)
    V, U = state[0, lo:hi], state[1, lo:hi]
    in_ex, in_in = inp[0, lo:hi], inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v = V[i]
        u = U[i]
        ext = 0.0 if ie is None else ie[i]
        hi_ = each(h, i)
        v_new = v + hi_ * (0.04 * v * v + 5.0 * v + 140.0 - u + ext + each(I_e, i)) \
            + in_ex[i] + in_in[i]
        u_new = u + hi_ * each(a, i) * (each(b, i) * v - u)
        in_ex[i] = 0.0
        in_in[i] = 0.0
        vmin = each(V_min, i)
        v_new = v_new if v_new > vmin else vmin
        fire = v_new >= each(V_th, i)
        V[i] = each(c, i) if fire else v_new
        U[i] = u_new + each(d, i) if fire else u_new
        spiked[i] = fire


izhikevich = register(NeuronSpec(
    name="izhikevich",
    params=(
        Param("a", 0.02, "1/ms", "recovery time scale", "finite"),
        Param("b", 0.2, "1", "recovery sensitivity", "finite"),
        Param("c", -65.0, "mV", "reset of v"),
        Param("d", 8.0, "mV/ms", "jump of u at a spike"),
        Param("I_e", 0.0, "pA", "constant external current"),
        Param("V_th", 30.0, "mV", "spike cut-off"),
        Param("V_min", -np.inf, "mV", "lower bound of v (-inf: none)", "any"),
    ),
    state=(
        StateVar("V_m", -65.0, "mV", "membrane potential v"),
        StateVar("U_m", -13.0, "mV/ms", "recovery variable u"),
    ),
    ports=("exc", "inh"),
    coef_names=("h", "a", "b", "c", "d", "I_e", "V_th", "V_min"),
    derive=_derive,
    update=update_izhikevich,
    doc=__doc__,
))
