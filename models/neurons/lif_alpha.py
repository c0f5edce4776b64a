r"""``iaf_psc_alpha``: leaky integrate-and-fire with alpha-shaped synaptic currents (NEST).

.. math::

    C_m \dot V = -\frac{C_m}{\tau_m}(V - E_L) + I_{ex} + I_{in} + I_e + I_{ext}

    I_{ex}(t) = \sum_k w_k \frac{t - t_k}{\tau_{ex}} e^{1 - (t - t_k)/\tau_{ex}}
    \quad (t \ge t_k;\ \text{peak } w_k \text{ at } t_k + \tau_{ex}),

written as two linear equations per port, :math:`\dot{dI} = -dI/\tau_s` and
:math:`\dot I = dI - I/\tau_s`, with a spike of weight w adding :math:`w e / \tau_s` to
:math:`dI` (pA/ms). NEST's ``iaf_psc_alpha``, which is the model of NEST's own consistency
tests and of its HPC benchmark.

Integrated exactly over each step ``h = dt`` (Rotter & Diesmann 1999). With
``P11 = exp(-h/tau_s)``, ``P22 = exp(-h/tau_m)``:

    dI <- dI P11,   I <- I P11 + dI h P11,
    P20 = tau_m/C_m (1 - P22)                          (constant current on V)
    P32 = tau_s tau_m / (C_m (tau_m - tau_s)) (P22 - P11)   (I on V, as iaf_psc_exp)
    P31 = h^2/C_m P22 g(x),  g(x) = ((x - 1) e^x + 1) / x^2,  x = h (1/tau_m - 1/tau_s)
                                                       (dI on V; g(0) = 1/2)

``g`` is evaluated by its series ``sum_k x^k / (k! (k + 2))`` for ``|x| < 0.1`` and in closed
form otherwise, so ``tau_s -> tau_m`` has no singularity (NEST warns there; the results
agree with NEST's to round-off away from it).

One step, in NEST's order: if not refractory, V <- E_L + (V - E_L) P22 + dI_ex P31ex +
I_ex P32ex + dI_in P31in + I_in P32in + (I_e + I_ext) P20, then V <- max(V, V_min); else the
refractory counter counts down (V held). Then each port: I <- I P11 + dI h P11, dI <- dI P11 +
(weights arriving this step) e / tau_s. Then if V >= V_th: spike, V <- V_reset, refractory for
round(t_ref / h) steps. Input arriving in step k moves I from step k + 1 and V from step
k + 2. Weights are in pA (the peak of the current): positive on port ``exc``, negative on port
``inh``. Inputs go through the ring buffer (the weight is scaled on the way into ``dI``, so
this model declares no ``jumps``). Trainable: ``step_psc_alpha`` is the same step as array
operations (torch bridge; bit for bit the kernel's numbers in float64 with numpy).
"""

from __future__ import annotations

import math

from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar
from neurosim.units import to_steps

from .lif import _COMMON, add_inputs, drive, fire_reset, known, propagator_32, refractory


def alpha_g(x: float) -> float:
    """``((x - 1) e^x + 1) / x^2`` without cancellation near 0 (where it tends to 1/2)."""
    if abs(x) < 0.1:
        total, term = 0.0, 1.0  # term = x^k / k!
        for k in range(16):
            total += term / (k + 2)
            term *= x / (k + 1)
        return total
    return ((x - 1.0) * math.exp(x) + 1.0) / (x * x)


def propagator_31(tau_syn: float, tau_m: float, c_m: float, h: float) -> float:
    """Exact weight of ``dI`` (pA/ms) on V over one step (mV): ``h^2/C_m e^{-h/tau_m} g(x)``
    with ``x = h (1/tau_m - 1/tau_syn)``."""
    x = h * (1.0 / tau_m - 1.0 / tau_syn)
    return h * h / c_m * math.exp(-h / tau_m) * alpha_g(x)


def _derive(p, dt):
    p11ex, p11in = math.exp(-dt / p["tau_syn_ex"]), math.exp(-dt / p["tau_syn_in"])
    return (
        p["E_L"],
        math.exp(-dt / p["tau_m"]),
        propagator_31(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
        propagator_32(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
        propagator_31(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
        propagator_32(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
        -p["tau_m"] / p["C_m"] * math.expm1(-dt / p["tau_m"]),
        p11ex,
        p11in,
        dt * p11ex,
        dt * p11in,
        math.e / p["tau_syn_ex"],
        math.e / p["tau_syn_in"],
        p["I_e"],
        p["V_th"],
        p["V_reset"],
        float(to_steps(p["t_ref"], dt)),
        p["V_min"],
    )


@njit(cache=True)
def update_psc_alpha(lo, hi, state, coef, inp, i_ext, spiked):
    E_L, P22, P31ex, P32ex = (row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi),
                              row(coef, 3, lo, hi))
    P31in, P32in, P20 = row(coef, 4, lo, hi), row(coef, 5, lo, hi), row(coef, 6, lo, hi)
    P11ex, P11in, P21ex, P21in = (row(coef, 7, lo, hi), row(coef, 8, lo, hi),
                                  row(coef, 9, lo, hi), row(coef, 10, lo, hi))
    Wex, Win, I_e = row(coef, 11, lo, hi), row(coef, 12, lo, hi), row(coef, 13, lo, hi)
    V_th, V_reset, n_ref, V_min = (row(coef, 14, lo, hi), row(coef, 15, lo, hi),
                                   row(coef, 16, lo, hi), row(coef, 17, lo, hi))
    V, dIex, Iex = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi]
    dIin, Iin, ref = state[3, lo:hi], state[4, lo:hi], state[5, lo:hi]
    in_ex, in_in = inp[0, lo:hi], inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v = V[i]
        r = ref[i]
        el, vmin = each(E_L, i), each(V_min, i)
        drive = each(I_e, i) if ie is None else each(I_e, i) + ie[i]
        a, b, c, d = dIex[i], Iex[i], dIin[i], Iin[i]
        v_free = (el + (v - el) * each(P22, i) + a * each(P31ex, i) + b * each(P32ex, i)
                  + c * each(P31in, i) + d * each(P32in, i) + drive * each(P20, i))
        v_free = v_free if v_free > vmin else vmin
        free = r < 0.5
        v = v_free if free else v
        r = r if free else r - 1.0
        Iex[i] = b * each(P11ex, i) + a * each(P21ex, i)
        Iin[i] = d * each(P11in, i) + c * each(P21in, i)
        dIex[i] = a * each(P11ex, i) + in_ex[i] * each(Wex, i)
        dIin[i] = c * each(P11in, i) + in_in[i] * each(Win, i)
        in_ex[i] = 0.0
        in_in[i] = 0.0
        fire = v >= each(V_th, i)
        V[i] = each(V_reset, i) if fire else v
        ref[i] = each(n_ref, i) if fire else r
        spiked[i] = fire


def step_psc_alpha(xp, state, coef, inp, i_ext, spike_fn, detach=None):
    r"""One ``iaf_psc_alpha`` step as array operations (see :mod:`neurosim.spec`): the kernel's
    operations in its order.

    .. math::

        V' = \max\big(E_L + (V - E_L) P_{22} + dI_{ex} P_{31,ex} + I_{ex} P_{32,ex}
        + dI_{in} P_{31,in} + I_{in} P_{32,in} + (I_e + I_{ext}) P_{20},\ V_{min}\big)
        \quad \text{(mV; only where not refractory)}

        I' = I P_{11} + dI\, P_{21}, \qquad dI' = dI\, P_{11} + w\, e / \tau_s

    then fire ``s = H(V' - V_th)``, reset ``V <- s V_reset + (1 - s) V'`` and ``r <- n_ref``
    where ``s = 1``.
    """
    (E_L, P22, P31ex, P32ex, P31in, P32in, P20, P11ex, P11in, P21ex, P21in, W_ex, W_in, I_e,
     V_th, V_reset, n_ref, V_min) = coef
    V, dIex, Iex, dIin, Iin, ref = state
    v_free = (E_L + (V - E_L) * P22 + dIex * P31ex + Iex * P32ex + dIin * P31in
              + Iin * P32in)
    c = drive(I_e, i_ext, P20)
    if c is not None:
        v_free = v_free + c
    if not known(V_min, -math.inf):
        v_free = xp.where(v_free > V_min, v_free, V_min)
    v, r = refractory(xp, ref, v_free, V, n_ref)
    Iex2 = Iex * P11ex + dIex * P21ex
    Iin2 = Iin * P11in + dIin * P21in
    w_ex, w_in = (None if w is None or known(w, 0.0) else w * s_
                  for w, s_ in ((inp[0], W_ex), (inp[1], W_in)))
    dIex2 = add_inputs(dIex * P11ex, (w_ex,))
    dIin2 = add_inputs(dIin * P11in, (w_in,))
    V, r, s, _ = fire_reset(xp, v, V_th, V_reset, r, n_ref, spike_fn, detach)
    return (V, dIex2, Iex2, dIin2, Iin2, r), s


iaf_psc_alpha = register(NeuronSpec(
    name="iaf_psc_alpha",
    params=_COMMON + (
        Param("tau_syn_ex", 2.0, "ms", "rise time of the excitatory current", "positive"),
        Param("tau_syn_in", 2.0, "ms", "rise time of the inhibitory current", "positive"),
        Param("V_min", -math.inf, "mV", "lower bound of V (-inf: none)", "any"),
    ),
    state=(
        StateVar("V_m", "E_L", "mV", "membrane potential"),
        StateVar("dI_syn_ex", 0.0, "pA/ms", "derivative term of the excitatory current"),
        StateVar("I_syn_ex", 0.0, "pA", "excitatory synaptic current"),
        StateVar("dI_syn_in", 0.0, "pA/ms", "derivative term of the inhibitory current"),
        StateVar("I_syn_in", 0.0, "pA", "inhibitory synaptic current"),
        StateVar("refractory", 0.0, "steps", "refractory steps left"),
    ),
    ports=("exc", "inh"),
    coef_names=("E_L", "P22", "P31ex", "P32ex", "P31in", "P32in", "P20", "P11ex", "P11in",
                "P21ex", "P21in", "W_ex", "W_in", "I_e", "V_th", "V_reset", "n_ref", "V_min"),
    derive=_derive,
    update=update_psc_alpha,
    doc=__doc__,
    trainable=True,
    array_step=step_psc_alpha,
))
