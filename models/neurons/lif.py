r"""Leaky integrate-and-fire neurons with current-based synapses (NEST semantics).

``iaf_psc_exp`` -- exponential post-synaptic currents
-----------------------------------------------------
.. math::

    C_m \dot V = -\frac{C_m}{\tau_m}(V - E_L) + I_{ex} + I_{in} + I_e + I_{ext}

    \tau_{ex} \dot I_{ex} = -I_{ex} + \sum_k w_k \delta(t - t_k)\,\tau_{ex}  \quad (\text{jump } w)

    \tau_{in} \dot I_{in} = -I_{in} + \dots

Integrated exactly over each step ``h = dt`` (Rotter & Diesmann 1999) with the propagators

    P22 = exp(-h/tau_m),  P11 = exp(-h/tau_syn),  P20 = tau_m/C_m (1 - P22),
    P21 = tau_syn tau_m / (C_m (tau_m - tau_syn)) (P22 - P11)   (h/C_m P22 if tau_syn = tau_m).

One step, in NEST's order: if not refractory, V <- E_L + (V - E_L) P22 + I_ex P21ex + I_in
P21in + (I_e + I_ext) P20, else count the refractory step down; then I <- I P11 + (weights
arriving this step); then if V >= V_th: spike, V <- V_reset, refractory for
round(t_ref / h) steps (V clamped). Input arriving in step k therefore moves V from step k + 1.
Weights are in pA: positive on port ``exc``, negative (inhibitory) on port ``inh``.

``iaf_psc_delta`` -- delta synapses
-----------------------------------
.. math::

    \tau_m \dot V = -(V - E_L) + \frac{\tau_m}{C_m}(I_e + I_{ext})
        + \tau_m \sum_k w_k\delta(t-t_k)

One step: if not refractory, V <- E_L + (V - E_L) P33 + (I_e + I_ext) P30 + (weights arriving
this step, mV), then V <- max(V, V_min); else the arriving weights are discarded (NEST's
default) and the refractory counter counts down. Then if V >= V_th: spike, V <- V_reset.
Input arriving in step k moves V in step k itself. Both ports add to V.

Array steps (``neurosim.torch``)
--------------------------------
Each model also declares its step as whole-array operations (``NeuronSpec.array_step``, see
:mod:`neurosim.spec`): the same operations in the same order as the Numba kernel, so in
float64 it gives the kernel's numbers. Firing is ``spike_fn(V - V_th)``; the reset is
written with the spike ``s`` in {0, 1} as ``V <- s V_reset + (1 - s) V``, exact for both
values of ``s`` and differentiable in ``s`` (dV/ds = V_reset - V), as in surrogate-gradient
training; the refractory counter is set with ``where(s > 0, n_ref, r)`` (not
differentiated).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar
from neurosim.units import to_steps

_COMMON = (
    Param("C_m", 250.0, "pF", "membrane capacitance", "positive"),
    Param("tau_m", 10.0, "ms", "membrane time constant", "positive"),
    Param("t_ref", 2.0, "ms", "absolute refractory period", "nonnegative"),
    Param("E_L", -70.0, "mV", "resting potential"),
    Param("V_reset", -70.0, "mV", "reset potential"),
    Param("V_th", -55.0, "mV", "spike threshold"),
    Param("I_e", 0.0, "pA", "constant external current"),
)


def propagator_32(tau_syn: float, tau_m: float, c_m: float, h: float) -> float:
    """Exact weight of an exponential synaptic current on V over one step (pF, ms -> mV/pA).

    ``tau_syn tau_m / (C_m (tau_m - tau_syn)) (exp(-h/tau_m) - exp(-h/tau_syn))``, rewritten
    without cancellation as ``h/C_m exp(-h/tau_m) expm1(x)/x`` with
    ``x = h (tau_syn - tau_m) / (tau_m tau_syn)``; it tends to ``h/C_m exp(-h/tau_m)`` as
    tau_syn -> tau_m and stays accurate to round-off arbitrarily close to that limit.
    """
    x = h * (tau_syn - tau_m) / (tau_m * tau_syn)
    ratio = 1.0 if x == 0.0 else math.expm1(x) / x
    return h / c_m * math.exp(-h / tau_m) * ratio


# ---------------------------------------------------------------------------------- psc_exp
def _derive_exp(p, dt):
    p22 = math.exp(-dt / p["tau_m"])
    return (
        p["E_L"],
        p22,
        propagator_32(p["tau_syn_ex"], p["tau_m"], p["C_m"], dt),
        propagator_32(p["tau_syn_in"], p["tau_m"], p["C_m"], dt),
        -p["tau_m"] / p["C_m"] * math.expm1(-dt / p["tau_m"]),
        math.exp(-dt / p["tau_syn_ex"]),
        math.exp(-dt / p["tau_syn_in"]),
        p["I_e"],
        p["V_th"],
        p["V_reset"],
        float(to_steps(p["t_ref"], dt)),
    )


@njit(inline="always")
def psc_exp_rows(coef, lo, hi):
    """The eight charge coefficients of ``iaf_psc_exp`` (E_L .. I_e) for units ``lo..hi``,
    each a number or a per-unit array (:func:`neurosim.kernels.coefs.row`)."""
    return (row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi),
            row(coef, 3, lo, hi), row(coef, 4, lo, hi), row(coef, 5, lo, hi),
            row(coef, 6, lo, hi), row(coef, 7, lo, hi))


@njit(inline="always")
def charge_psc_exp_unit(i, c, V, Iex, Iin, ref, in_ex, in_in, i_ext):
    """Unit i's charge step of ``iaf_psc_exp`` in NEST's order (shared with ``alif``), with
    ``c`` from :func:`psc_exp_rows`: V from the currents before this step's input (or held
    while refractory), then the currents decay and take the input, which is cleared
    (``in_ex`` None: no ring input, the weights jump into the currents after the step;
    ``i_ext`` None: no current stimulus). Returns (V, refractory count) before the threshold
    test. Inlined into the kernels, so their loops still vectorise."""
    E_L, P22, P21ex, P21in = each(c[0], i), each(c[1], i), each(c[2], i), each(c[3], i)
    P20, P11ex, P11in, I_e = each(c[4], i), each(c[5], i), each(c[6], i), each(c[7], i)
    v = V[i]
    r = ref[i]
    drive = I_e if i_ext is None else I_e + i_ext[i]
    v_free = E_L + (v - E_L) * P22 + Iex[i] * P21ex + Iin[i] * P21in + drive * P20
    free = r < 0.5
    v = v_free if free else v
    r = r if free else r - 1.0
    Iex[i], Iin[i] = take_inputs(i, Iex[i] * P11ex, Iin[i] * P11in, in_ex, in_in)
    return v, r


@njit(inline="always")
def take_inputs(i, a, b, in_a, in_b):
    """``(a + in_a[i], b + in_b[i])`` with the two ring entries cleared; ``(a, b)`` when there
    is no ring (``in_a`` None: the weights jump into the state after the step, see
    ``NeuronSpec.jumps``). The last operation on the two jumping variables of a step."""
    if in_a is not None:
        a += in_a[i]
        b += in_b[i]
        in_a[i] = 0.0
        in_b[i] = 0.0
    return a, b


@njit(cache=True)
def update_psc_exp(lo, hi, state, coef, inp, i_ext, spiked):
    c = psc_exp_rows(coef, lo, hi)
    V_th, V_reset, n_ref = row(coef, 8, lo, hi), row(coef, 9, lo, hi), row(coef, 10, lo, hi)
    V, Iex, Iin, ref = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    in_ex = None if inp is None else inp[0, lo:hi]  # (a ternary: Numba prunes it by type)
    in_in = None if inp is None else inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v, r = charge_psc_exp_unit(i, c, V, Iex, Iin, ref, in_ex, in_in, ie)
        fire = v >= each(V_th, i)
        V[i] = each(V_reset, i) if fire else v
        ref[i] = each(n_ref, i) if fire else r
        spiked[i] = fire


def known(c, value) -> bool:
    """Whether the coefficient ``c`` is a plain number (not a learned tensor) equal to
    ``value``: the array steps skip operations that cannot change anything for such
    coefficients (adding 0, clamping at -inf, a refractory period of 0 steps). Decided once
    per step from the coefficient, never per element."""
    return isinstance(c, (int, float)) and c == value


def add_inputs(x, inp):
    """``x + inp[0] + inp[1] + ...`` in that order, skipping absent inputs (None or 0.0: adding
    0 changes nothing)."""
    for w in inp:
        if w is not None and not known(w, 0.0):
            x = x + w
    return x


def drive(I_e, i_ext, P):
    """The constant-current term ``(I_e + I_ext) P`` (mV), or None where it is 0 (``i_ext``
    None or 0.0 and ``I_e`` a known 0)."""
    if i_ext is None or known(i_ext, 0.0):
        return None if known(I_e, 0.0) else I_e * P
    return (I_e + i_ext) * P


def refractory(xp, ref, v_free, V, n_ref):
    """The refractory hold: ``(v, r)`` = ``(v_free, ref)`` where ``ref < 0.5`` (free), else
    ``(V, ref - 1)``; with ``n_ref = 0`` (a known number) the counter never leaves 0 and this
    is ``(v_free, ref)`` without any operation."""
    if known(n_ref, 0.0):
        return v_free, ref
    free = ref < 0.5
    return xp.where(free, v_free, V), xp.where(free, ref, ref - 1.0)


def fire_reset(xp, v, theta, V_reset, r, n_ref, spike_fn, detach):
    """Fire ``s = H(v - theta)``, reset ``V <- s V_reset + (1 - s) v`` (exact for ``s`` in
    {0, 1}, differentiable in ``s``: dV/ds = V_reset - v) and ``r <- n_ref`` where ``s = 1``
    (skipped for a known ``n_ref = 0``). Returns ``(V, r, s, sr)`` with ``sr`` the spike as
    it enters the reset and the other spike-triggered updates (``detach(s)``, or ``s``)."""
    s = spike_fn(v - theta)
    sr = s if detach is None else detach(s)
    V = sr * V_reset + (1.0 - sr) * v
    return V, (r if known(n_ref, 0.0) else xp.where(s > 0, n_ref, r)), s, sr


def charge_psc_exp(xp, V, Iex, Iin, ref, coef, inp, i_ext):
    r"""The sub-threshold part of one ``iaf_psc_exp`` step, as array operations.

    .. math::

        V' = E_L + (V - E_L) P_{22} + I_{ex} P_{21,ex} + I_{in} P_{21,in} + (I_e + I_{ext})
        P_{20} \quad \text{(mV; only where not refractory)}

        I_{ex}' = I_{ex} P_{11,ex} + w_{ex}, \qquad I_{in}' = I_{in} P_{11,in} + w_{in}
        \quad \text{(pA)}

    Returns ``(v, r, Iex', Iin')``: the membrane potential before the threshold test (mV),
    the refractory counter after this step's count-down (steps) and the new currents (pA).
    ``coef`` starts with the 11 coefficients of ``iaf_psc_exp`` (``alif_psc_exp`` reuses it).
    """
    E_L, P22, P21ex, P21in, P20, P11ex, P11in, I_e = coef[:8]
    v_free = E_L + (V - E_L) * P22 + Iex * P21ex + Iin * P21in
    c = drive(I_e, i_ext, P20)
    if c is not None:
        v_free = v_free + c
    v, r = refractory(xp, ref, v_free, V, coef[10])
    return v, r, add_inputs(Iex * P11ex, inp[:1]), add_inputs(Iin * P11in, inp[1:2])


def step_psc_exp(xp, state, coef, inp, i_ext, spike_fn, detach=None):
    r"""One ``iaf_psc_exp`` step as array operations (see :mod:`neurosim.spec`).

    Charge (:func:`charge_psc_exp`, with the currents *before* this step's input), fire
    ``s = H(V - V_th)``, reset ``V <- s V_reset + (1 - s) V`` (mV) and ``r <- n_ref`` where
    ``s = 1`` (steps).
    """
    V_th, V_reset, n_ref = coef[8], coef[9], coef[10]
    v, r, Iex, Iin = charge_psc_exp(xp, *state, coef, inp, i_ext)
    V, r, s, _ = fire_reset(xp, v, V_th, V_reset, r, n_ref, spike_fn, detach)
    return (V, Iex, Iin, r), s


iaf_psc_exp = register(NeuronSpec(
    name="iaf_psc_exp",
    params=_COMMON + (
        Param("tau_syn_ex", 2.0, "ms", "excitatory synaptic time constant", "positive"),
        Param("tau_syn_in", 2.0, "ms", "inhibitory synaptic time constant", "positive"),
    ),
    state=(
        StateVar("V_m", "E_L", "mV", "membrane potential"),
        StateVar("I_syn_ex", 0.0, "pA", "excitatory synaptic current"),
        StateVar("I_syn_in", 0.0, "pA", "inhibitory synaptic current"),
        StateVar("refractory", 0.0, "steps", "refractory steps left"),
    ),
    ports=("exc", "inh"),
    coef_names=("E_L", "P22", "P21ex", "P21in", "P20", "P11ex", "P11in", "I_e", "V_th",
                "V_reset", "n_ref"),
    derive=_derive_exp,
    update=update_psc_exp,
    doc=__doc__,
    trainable=True,
    array_step=step_psc_exp,
    jumps=("I_syn_ex", "I_syn_in"),
))


# -------------------------------------------------------------------------------- psc_delta
def _derive_delta(p, dt):
    return (
        p["E_L"],
        math.exp(-dt / p["tau_m"]),
        -p["tau_m"] / p["C_m"] * math.expm1(-dt / p["tau_m"]),
        p["I_e"],
        p["V_th"],
        p["V_reset"],
        float(to_steps(p["t_ref"], dt)),
        p["V_min"],
    )


@njit(cache=True)
def update_psc_delta(lo, hi, state, coef, inp, i_ext, spiked):
    E_L, P33, P30, I_e = (row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi),
                          row(coef, 3, lo, hi))
    V_th, V_reset, n_ref, V_min = (row(coef, 4, lo, hi), row(coef, 5, lo, hi),
                                   row(coef, 6, lo, hi), row(coef, 7, lo, hi))
    V, ref = state[0, lo:hi], state[1, lo:hi]
    in_ex, in_in = inp[0, lo:hi], inp[1, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        v = V[i]
        r = ref[i]
        el, vmin = each(E_L, i), each(V_min, i)
        drive = each(I_e, i) if ie is None else each(I_e, i) + ie[i]
        v_free = el + (v - el) * each(P33, i) + drive * each(P30, i) + in_ex[i] + in_in[i]
        v_free = v_free if v_free > vmin else vmin
        in_ex[i] = 0.0
        in_in[i] = 0.0
        free = r < 0.5
        v = v_free if free else v
        r = r if free else r - 1.0
        fire = v >= each(V_th, i)
        V[i] = each(V_reset, i) if fire else v
        ref[i] = each(n_ref, i) if fire else r
        spiked[i] = fire


def step_psc_delta(xp, state, coef, inp, i_ext, spike_fn, detach=None):
    r"""One ``iaf_psc_delta`` step as array operations (see :mod:`neurosim.spec`).

    .. math::

        V' = \max\big(E_L + (V - E_L) P_{33} + (I_e + I_{ext}) P_{30} + w_{ex} + w_{in},
        V_{min}\big) \quad \text{(mV; only where not refractory, else the input is lost)}

    then fire ``s = H(V' - V_th)``, reset ``V <- s V_reset + (1 - s) V'`` (mV) and
    ``r <- n_ref`` where ``s = 1`` (steps).
    """
    E_L, P33, P30, I_e, V_th, V_reset, n_ref, V_min = coef
    V, ref = state
    v_free = E_L + (V - E_L) * P33
    c = drive(I_e, i_ext, P30)
    if c is not None:
        v_free = v_free + c
    v_free = add_inputs(v_free, inp)
    if not known(V_min, -math.inf):
        v_free = xp.where(v_free > V_min, v_free, V_min)
    v, r = refractory(xp, ref, v_free, V, n_ref)
    V, r, s, _ = fire_reset(xp, v, V_th, V_reset, r, n_ref, spike_fn, detach)
    return (V, r), s


iaf_psc_delta = register(NeuronSpec(
    name="iaf_psc_delta",
    params=_COMMON + (
        Param("V_min", -np.inf, "mV", "lower bound of V (-inf: none)", "any"),
    ),
    state=(
        StateVar("V_m", "E_L", "mV", "membrane potential"),
        StateVar("refractory", 0.0, "steps", "refractory steps left"),
    ),
    ports=("exc", "inh"),
    coef_names=("E_L", "P33", "P30", "I_e", "V_th", "V_reset", "n_ref", "V_min"),
    derive=_derive_delta,
    update=update_psc_delta,
    doc=__doc__,
    trainable=True,
    array_step=step_psc_delta,
))
