r"""``nir_if``: NIR's integrate-and-fire neuron (IF) and integrator (I), discrete as in the
frameworks that exchange NIR (SpikingJelly ``IFNode``, Norse).

Continuous model (NIR ``IF``; per unit):

.. math::

    \dot V = R\,(I(t) + I_{bias}), \qquad V > V_{th} \Rightarrow \text{spike},
    \; V \leftarrow V_{reset}

NIR ``I`` is the same with ``V_th = +inf`` (never fires). ``R`` is in mV per input unit per
**ms** (NIR's ``r`` is per second: ``R = r / 1000``).

One step ``h = dt`` (ms), the input of this step constant over the step (exact here, since
there is no leak):

    I   = in + I_ext + I_bias * [age >= n_bias]          in: weights arriving this step
    V  <- V + R h I
    spike if V > V_th  (V >= V_th when threshold_ge = 1), then V <- V_reset
    age <- age + 1

SpikingJelly ``IFNode(v_threshold, v_reset)`` exported with step ``dt`` has ``r = 1/dt``, so
``V <- V + I``, and fires on ``V >= V_th`` (``threshold_ge = 1``). The NIR parameters are
per-unit state rows that the kernel never changes; ``I_bias``, ``t_bias`` and ``age`` work as
in ``nir_lif`` (the bias starts when the first input can arrive). Input port: ``in``.
"""

from __future__ import annotations

from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, StateVar

from .nir_lif import NIR_COEFS, NIR_PARAMS, NIR_TAIL_STATE, _derive


@njit(cache=True)
def update_nir_if(lo, hi, state, coef, inp, i_ext, spiked):
    h, n_bias, ge = row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi)
    V, R, V_th, V_reset = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    I_b, age = state[4, lo:hi], state[5, lo:hi]
    x = inp[0, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        ext = 0.0 if ie is None else ie[i]
        cur = x[i] + ext + (I_b[i] if age[i] >= each(n_bias, i) else 0.0)
        x[i] = 0.0
        v = V[i] + R[i] * each(h, i) * cur
        th = V_th[i]
        fire = v > th if each(ge, i) < 0.5 else v >= th
        V[i] = V_reset[i] if fire else v
        age[i] += 1.0
        spiked[i] = fire


nir_if = register(NeuronSpec(
    name="nir_if",
    params=NIR_PARAMS,
    state=(
        StateVar("V_m", 0.0, "mV", "membrane potential"),
        StateVar("R", 1.0, "mV/(input ms)", "input gain (NIR r / 1000)"),
        StateVar("V_th", 1.0, "mV", "spike threshold (+inf: never fires, NIR I)"),
    ) + NIR_TAIL_STATE,
    ports=("in",),
    coef_names=NIR_COEFS,
    derive=_derive,
    update=update_nir_if,
    doc=__doc__,
))
