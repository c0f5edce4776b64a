r"""Adaptive LIF: ``iaf_psc_exp`` with a spike-triggered adaptive threshold.

The membrane and synaptic currents follow ``iaf_psc_exp`` exactly (see ``lif.py``). The
threshold is raised by ``q_a`` at every spike and relaxes back with ``tau_a``
(the threshold adaptation of Bellec et al. 2018's LSNN and of ``iaf_psc_exp_htum``-style
models):

.. math::

    \theta(t) = V_{th} + a(t), \qquad \tau_a \dot a = -a + \tau_a q_a \sum_k \delta(t - t_k)

One step: V and the currents as in ``iaf_psc_exp``; ``a <- a exp(-h/tau_a)`` (exact); if
``V >= V_th + a``: spike, ``V <- V_reset``, refractory, ``a <- a + q_a``.

The array step (``neurosim.torch``) is the same step with the spike ``s`` in {0, 1}:
``s = H(V - (V_th + a))``, ``V <- s V_reset + (1 - s) V``, ``a <- a + s q_a`` (both exact for
``s`` in {0, 1} and differentiable in ``s``).
"""

from __future__ import annotations

import math

from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar

from .lif import (
    _COMMON,
    _derive_exp,
    charge_psc_exp,
    charge_psc_exp_unit,
    fire_reset,
    known,
    psc_exp_rows,
)


def _derive(p, dt):
    return _derive_exp(p, dt) + (math.exp(-dt / p["tau_a"]), p["q_a"])


@njit(cache=True)
def update_alif(lo, hi, state, coef, inp, i_ext, spiked):
    c = psc_exp_rows(coef, lo, hi)
    V_th, V_reset, n_ref = row(coef, 8, lo, hi), row(coef, 9, lo, hi), row(coef, 10, lo, hi)
    Pa, q_a = row(coef, 11, lo, hi), row(coef, 12, lo, hi)
    V, Iex, Iin, ref = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    A = state[4, lo:hi]
    in_ex = None if inp is None else inp[0, lo:hi]  # None: inputs jump after the step
    in_in = None if inp is None else inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v, r = charge_psc_exp_unit(i, c, V, Iex, Iin, ref, in_ex, in_in, ie)
        a = A[i] * each(Pa, i)
        fire = v >= each(V_th, i) + a
        V[i] = each(V_reset, i) if fire else v
        ref[i] = each(n_ref, i) if fire else r
        A[i] = a + each(q_a, i) if fire else a
        spiked[i] = fire


def step_alif(xp, state, coef, inp, i_ext, spike_fn, detach=None):
    r"""One ``alif_psc_exp`` step as array operations (see :mod:`neurosim.spec`).

    Charge as ``iaf_psc_exp`` (:func:`~neurosim.models.neurons.lif.charge_psc_exp`), decay
    the adaptation ``a <- a P_a`` (mV), fire ``s = H(V - (V_th + a))``, reset
    ``V <- s V_reset + (1 - s) V`` (mV), ``r <- n_ref`` where ``s = 1`` (steps) and
    ``a <- a + s q_a`` (mV).
    """
    V_th, V_reset, n_ref, Pa, q_a = coef[8], coef[9], coef[10], coef[11], coef[12]
    V, Iex, Iin, ref, A = state
    v, r, Iex, Iin = charge_psc_exp(xp, V, Iex, Iin, ref, coef, inp, i_ext)
    a = A * Pa
    V, r, s, sr = fire_reset(xp, v, V_th + a, V_reset, r, n_ref, spike_fn, detach)
    return (V, Iex, Iin, r, a if known(q_a, 0.0) else a + sr * q_a), s


alif_psc_exp = register(NeuronSpec(
    name="alif_psc_exp",
    params=_COMMON + (
        Param("tau_syn_ex", 2.0, "ms", "excitatory synaptic time constant", "positive"),
        Param("tau_syn_in", 2.0, "ms", "inhibitory synaptic time constant", "positive"),
        Param("tau_a", 200.0, "ms", "threshold adaptation time constant", "positive"),
        Param("q_a", 2.0, "mV", "threshold increase per spike", "nonnegative"),
    ),
    state=(
        StateVar("V_m", "E_L", "mV", "membrane potential"),
        StateVar("I_syn_ex", 0.0, "pA", "excitatory synaptic current"),
        StateVar("I_syn_in", 0.0, "pA", "inhibitory synaptic current"),
        StateVar("refractory", 0.0, "steps", "refractory steps left"),
        StateVar("a", 0.0, "mV", "threshold adaptation (threshold = V_th + a)"),
    ),
    ports=("exc", "inh"),
    coef_names=("E_L", "P22", "P21ex", "P21in", "P20", "P11ex", "P11in", "I_e", "V_th",
                "V_reset", "n_ref", "P_a", "q_a"),
    derive=_derive,
    update=update_alif,
    doc=__doc__,
    trainable=True,
    array_step=step_alif,
    jumps=("I_syn_ex", "I_syn_in"),
))
