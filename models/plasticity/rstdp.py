r"""Reward-modulated STDP: pair STDP writes an eligibility trace, a global modulator turns it
into weight change (Izhikevich 2007; Frémaux & Gerstner 2016, "R-STDP").

Each synapse keeps an eligibility :math:`c` that decays with :math:`\tau_c` and takes the
pair-STDP updates of the traces :math:`x` (source, :math:`\tau_+`) and :math:`y` (target,
:math:`\tau_-`), all-to-all:

.. math::

    \text{pre spike: } c \leftarrow c - A_- y, \qquad \text{post spike: } c \leftarrow c + A_+ x

    \tau_c \dot c = -c, \qquad \dot w = M\, c

with :math:`M` (1/ms) the third factor, one value per projection (reward minus baseline,
dopamine ...), set between runs with ``Simulation.set_modulator``. Between two events of a
synapse :math:`M` is constant, so the weight is integrated exactly and lazily, at the
synapse's next event:

.. math::

    w \leftarrow w + M\, c\, \tau_c \,(1 - e^{-\Delta t / \tau_c}), \qquad
    c \leftarrow c\, e^{-\Delta t/\tau_c}

then clipped to :math:`[w_{min}, w_{max}]` (the bound acts at event times only).
``set_modulator`` first brings every synapse up to the current time with the old value, so a
modulator schedule made of runs is integrated exactly; ``Simulation.weights`` reads the weights
brought up to date (without changing the state). A weight monitor shows each weight as of its
synapse's last event.
"""

from __future__ import annotations

import math

from numba import njit

from neurosim.registry import register
from neurosim.spec import Param, PlasticitySpec, StateVar, Trace

#: index of the modulator M in the coefficients (Simulation.set_modulator writes it)
MODULATOR = 6


@njit(inline="always")
def advance(k, w, syn, c, stamp):
    """Integrate synapse k from its last event to ``stamp`` with the modulator c[6]."""
    d = stamp - syn[1, k]
    if d > 0.0:
        e = syn[0, k]
        gone = -math.expm1(-d * c[4])  # 1 - exp(-d dt / tau_c)
        x = w[k] + c[MODULATOR] * e * c[5] * gone
        w[k] = min(max(x, c[2]), c[3])
        syn[0, k] = e - e * gone
        syn[1, k] = stamp


@njit
def rstdp_on_pre(k, w, syn, c, r1, r2, o1, o2, stamp):
    advance(k, w, syn, c, stamp)
    syn[0, k] -= c[1] * o1


@njit
def rstdp_on_post(k, w, syn, c, r1, r2, o1, o2, stamp):
    advance(k, w, syn, c, stamp)
    syn[0, k] += c[0] * r1


@njit
def rstdp_on_sync(k, w, syn, c, stamp):
    advance(k, w, syn, c, stamp)


def _derive(p, dt):
    if p["w_min"] > p["w_max"]:
        from neurosim.errors import bad

        raise bad("Plasticity 'rstdp'", "w_min", p["w_min"], f"must be <= w_max ({p['w_max']})")
    return (p["A_plus"], p["A_minus"], p["w_min"], p["w_max"], dt / p["tau_c"], p["tau_c"],
            p["modulator"])


rstdp = register(PlasticitySpec(
    name="rstdp", kind="spike",
    params=(
        Param("tau_plus", 20.0, "ms", "time constant of the presynaptic trace x", "positive"),
        Param("tau_minus", 20.0, "ms", "time constant of the postsynaptic trace y", "positive"),
        Param("tau_c", 1000.0, "ms", "time constant of the eligibility trace c", "positive"),
        Param("A_plus", 1.0, "1", "eligibility per pre-before-post pair", "nonnegative"),
        Param("A_minus", 1.05, "1", "eligibility removed per post-before-pre pair",
              "nonnegative"),
        Param("w_min", 0.0, "weight", "lower bound of the weight"),
        Param("w_max", 1.0, "weight", "upper bound of the weight"),
        Param("modulator", 0.0, "1/ms", "initial value of the third factor M"),
    ),
    coef_names=("A_plus", "A_minus", "w_min", "w_max", "dt_over_tau_c", "tau_c", "modulator"),
    derive=_derive,
    pre_traces=(Trace("x", "tau_plus", "presynaptic trace"),),
    post_traces=(Trace("y", "tau_minus", "postsynaptic trace"),),
    syn_state=(StateVar("c", 0.0, "1", "eligibility trace"),
               StateVar("t_last", 0.0, "steps", "stamp of the synapse's last update")),
    on_pre=rstdp_on_pre, on_post=rstdp_on_post, on_sync=rstdp_on_sync, doc=__doc__))
