r"""Leaky integrate-and-fire neuron with conductance-based exponential synapses.

``lif_cond_exp`` -- exponential synaptic conductances
------------------------------------------------------
.. math::

    C_m \dot V = -g_L (V - E_L) - g_{ex} (V - E_{ex}) - g_{in} (V - E_{in}) + I_e + I_{ext}

    \tau_{ex} \dot g_{ex} = -g_{ex} + \sum_k w_k \delta(t - t_k)\,\tau_{ex}
    \quad (\text{jump } w, \text{ nS})

    \tau_{in} \dot g_{in} = -g_{in} + \dots

The equations (and the parameter names and defaults) of NEST's ``iaf_cond_exp``, and the
neuron of Song, Miller & Abbott (2000): ``tau_m dV/dt = V_rest - V + g_ex (E_ex - V) +
g_in (E_in - V)`` with g in units of the leak conductance, i.e. ``tau_m = C_m / g_L`` and
``g_ex = g_L ge``. (Brian2's ``examples/synapses/STDP.py`` writes the drive as
``ge (Ee - vr)``, linearised at the reset potential: that is a current-based synapse, i.e.
``iaf_psc_exp`` with a weight of ``g_L (Ee - vr) w`` pA, not this model.)

Integration: exponential Euler
------------------------------
Over one step ``h = dt`` the conductances are held at their values at the start of the step,
so V obeys a linear ODE with constant coefficients and is advanced by its exact solution (the
scheme of Brian2's ``method='exponential_euler'``)::

    G     = g_L + g_ex + g_in                                              (nS)
    V_inf = (g_L E_L + g_ex E_ex + g_in E_in + I_e + I_ext) / G            (mV)
    V    <- V_inf + (V - V_inf) exp(-h G / C_m)

and the conductances decay exactly: ``g <- g exp(-h/tau_syn)``. The scheme is exact while
the conductances are constant (no input, or only I_e / I_ext: the V(t) of a passive membrane
and the DC step response are reproduced to round-off). With decaying conductances it is
first order: holding g at its start-of-step value over-counts each input's conductance
integral by about ``w h / 2`` (a left Riemann sum of ``w exp(-t/tau_syn)``), which moves V
by about ``w h |E - V| / (2 C_m)`` -- 0.018 mV for w = 12 nS, h = 0.01 ms, E - V = 60 mV,
C_m = 200 pF -- and the error shrinks in proportion to h.

One step, in NEST's order (as ``iaf_psc_exp``): if not refractory, V as above, else V is
held and the refractory counter counts down; then ``g <- g exp(-h/tau_syn) + (weights
arriving this step)``; then if V >= V_th: spike, V <- V_reset, refractory for
round(t_ref / h) steps (V clamped). Input arriving in step k therefore makes g jump at the
end of step k and moves V from step k + 1. The conductances decay and take input while the
neuron is refractory.

Weights are conductances (nS) on both ports: ``exc`` (reversal E_ex) and ``inh`` (reversal
E_in); inhibition comes from E_in < V, not from the sign of the weight. Negative weights make
no physical sense here (a negative conductance; with G <= 0 the step is not even defined)
and must not be used; the engine does not check them.

Why not ``iaf_cond_exp``
------------------------
NEST's ``iaf_cond_exp`` solves the same equations with an adaptive Runge-Kutta-Fehlberg 4(5)
solver (GSL), i.e. the continuous-time solution of the ODE between spike arrivals, to its
error tolerance; this model's exponential Euler step differs from it by O(h) (the conductance
is frozen over each step). Models here carry a NEST name only where they reproduce NEST's
numbers, so this one has its own name; it agrees with Brian2's ``exponential_euler``
instead, to round-off.
"""

from __future__ import annotations

import math

from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar
from neurosim.units import to_steps

from .lif import take_inputs


def _derive(p, dt):
    return (
        p["g_L"],
        p["g_L"] * p["E_L"],
        p["E_ex"],
        p["E_in"],
        dt / p["C_m"],
        math.exp(-dt / p["tau_syn_ex"]),
        math.exp(-dt / p["tau_syn_in"]),
        p["I_e"],
        p["V_th"],
        p["V_reset"],
        float(to_steps(p["t_ref"], dt)),
    )


@njit(cache=True)
def update_cond_exp(lo, hi, state, coef, inp, i_ext, spiked):
    g_L, gE_L, E_ex, E_in = (row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi),
                             row(coef, 3, lo, hi))
    h_C, P_ex, P_in, I_e = (row(coef, 4, lo, hi), row(coef, 5, lo, hi), row(coef, 6, lo, hi),
                            row(coef, 7, lo, hi))
    V_th, V_reset, n_ref = row(coef, 8, lo, hi), row(coef, 9, lo, hi), row(coef, 10, lo, hi)
    V, Gex, Gin, ref = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    in_ex = None if inp is None else inp[0, lo:hi]  # None: inputs jump after the step
    in_in = None if inp is None else inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v = V[i]
        r = ref[i]
        ge = Gex[i]
        gi = Gin[i]
        G = each(g_L, i) + ge + gi
        ext = 0.0 if ie is None else ie[i]
        v_inf = (each(gE_L, i) + ge * each(E_ex, i) + gi * each(E_in, i) + each(I_e, i)
                 + ext) / G
        v_free = v_inf + (v - v_inf) * math.exp(-each(h_C, i) * G)
        free = r < 0.5
        v = v_free if free else v
        r = r if free else r - 1.0
        Gex[i], Gin[i] = take_inputs(i, ge * each(P_ex, i), gi * each(P_in, i), in_ex, in_in)
        fire = v >= each(V_th, i)
        V[i] = each(V_reset, i) if fire else v
        ref[i] = each(n_ref, i) if fire else r
        spiked[i] = fire


lif_cond_exp = register(NeuronSpec(
    name="lif_cond_exp",
    params=(
        Param("C_m", 250.0, "pF", "membrane capacitance", "positive"),
        Param("g_L", 16.6667, "nS", "leak conductance", "positive"),
        Param("t_ref", 2.0, "ms", "absolute refractory period", "nonnegative"),
        Param("E_L", -70.0, "mV", "leak reversal (resting) potential"),
        Param("E_ex", 0.0, "mV", "excitatory reversal potential"),
        Param("E_in", -85.0, "mV", "inhibitory reversal potential"),
        Param("V_reset", -60.0, "mV", "reset potential"),
        Param("V_th", -55.0, "mV", "spike threshold"),
        Param("I_e", 0.0, "pA", "constant external current"),
        Param("tau_syn_ex", 0.2, "ms", "excitatory synaptic time constant", "positive"),
        Param("tau_syn_in", 2.0, "ms", "inhibitory synaptic time constant", "positive"),
    ),
    state=(
        StateVar("V_m", "E_L", "mV", "membrane potential"),
        StateVar("g_ex", 0.0, "nS", "excitatory synaptic conductance"),
        StateVar("g_in", 0.0, "nS", "inhibitory synaptic conductance"),
        StateVar("refractory", 0.0, "steps", "refractory steps left"),
    ),
    ports=("exc", "inh"),
    jumps=("g_ex", "g_in"),
    coef_names=("g_L", "gE_L", "E_ex", "E_in", "h_C", "P_ex", "P_in", "I_e", "V_th",
                "V_reset", "n_ref"),
    derive=_derive,
    update=update_cond_exp,
    doc=__doc__,
))
