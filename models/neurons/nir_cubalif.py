r"""``nir_cubalif``: NIR's current-based LIF (CubaLIF, CubaLI) in the discrete-time form of the
frameworks that exchange NIR (snnTorch ``Synaptic``, SpikingJelly ``CUBALIFNode``).

Continuous model (NIR ``CubaLIF``; per unit):

.. math::

    \tau_{syn} \dot I_{syn} = -I_{syn} + w_{in}\,(S(t) + I_{bias}), \qquad
    \tau_m \dot V = (V_{leak} - V) + R\,(I_{syn} + I_{ext})

    V > V_{th} \Rightarrow \text{spike}, \; V \leftarrow V_{reset} \quad (I_{syn} \text{ is
    not reset})

NIR ``CubaLI`` is the same with ``V_th = +inf``.

One step ``h = dt`` (ms), the frameworks' discretisation (forward Euler, the input of this
step constant over the step, the membrane driven by the *new* synaptic current):

    S     = in + I_bias * [age >= n_bias]                in: weights arriving this step
    I_syn <- I_syn (1 - h/tau_syn) + (w_in h/tau_syn) S      (tau_syn = 0: I_syn <- w_in S)
    V     <- V_leak + (V - V_leak)(1 - h/tau_m) + (R h/tau_m)(I_syn + I_ext)
                                                     (tau_m = 0: V <- V_leak + R (I_syn + I_ext))
    spike if V > V_th  (V >= V_th when threshold_ge = 1), then V <- V_reset
    age   <- age + 1

snnTorch ``Synaptic(alpha, beta, reset_mechanism="zero", reset_delay=False)`` is this with
``tau_syn = h/(1 - alpha)``, ``w_in = tau_syn/h``, ``tau_m = h/(1 - beta)``, ``R = tau_m/h``
(so ``I_syn <- alpha I_syn + S``, ``V <- beta V + I_syn``) and ``V_leak = V_reset = 0``;
SpikingJelly ``CUBALIFNode`` is the same with ``V >= V_th``. NIR parameters are per-unit state
rows that the kernel never changes; ``I_bias``, ``t_bias`` and ``age`` work as in ``nir_lif``.
Input port: ``in``.
"""

from __future__ import annotations

from numba import njit

from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, StateVar

from .nir_lif import NIR_COEFS, NIR_PARAMS, NIR_TAIL_STATE, _derive


@njit(cache=True)
def update_nir_cubalif(lo, hi, state, coef, inp, i_ext, spiked):
    h, n_bias, ge = row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi)
    V, Isyn, tau_s, tau = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    R, w_in, V_leak, V_th = state[4, lo:hi], state[5, lo:hi], state[6, lo:hi], state[7, lo:hi]
    V_reset, I_b, age = state[8, lo:hi], state[9, lo:hi], state[10, lo:hi]
    x = inp[0, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        s = x[i] + (I_b[i] if age[i] >= each(n_bias, i) else 0.0)
        x[i] = 0.0
        ts = tau_s[i]
        syn = ts > 0.0
        qs = each(h, i) / (ts if syn else 1.0)
        c = Isyn[i] * (1.0 - qs) + w_in[i] * qs * s if syn else w_in[i] * s
        Isyn[i] = c
        t = tau[i]
        leaky = t > 0.0
        q = each(h, i) / (t if leaky else 1.0)
        a = 1.0 - q if leaky else 0.0
        b = R[i] * q if leaky else R[i]
        el = V_leak[i]
        ext = 0.0 if ie is None else ie[i]
        v = el + (V[i] - el) * a + b * (c + ext)
        th = V_th[i]
        fire = v > th if each(ge, i) < 0.5 else v >= th
        V[i] = V_reset[i] if fire else v
        age[i] += 1.0
        spiked[i] = fire


nir_cubalif = register(NeuronSpec(
    name="nir_cubalif",
    params=NIR_PARAMS,
    state=(
        StateVar("V_m", 0.0, "mV", "membrane potential"),
        StateVar("I_syn", 0.0, "input", "synaptic current"),
        StateVar("tau_syn", 5.0, "ms", "synaptic time constant (0: no memory)"),
        StateVar("tau_m", 10.0, "ms", "membrane time constant (0: no memory)"),
        StateVar("R", 1.0, "mV/input", "input resistance (NIR r)"),
        StateVar("w_in", 1.0, "1", "input weight of the synapse (NIR w_in)"),
        StateVar("V_leak", 0.0, "mV", "leak (resting) potential"),
        StateVar("V_th", 1.0, "mV", "spike threshold (+inf: never fires, NIR CubaLI)"),
    ) + NIR_TAIL_STATE,
    ports=("in",),
    coef_names=NIR_COEFS,
    derive=_derive,
    update=update_nir_cubalif,
    doc=__doc__,
))
