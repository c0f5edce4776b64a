r"""``nir_lif``: NIR's leaky integrator (LIF, LI, Threshold) in the discrete-time form of the
frameworks that exchange NIR (snnTorch ``Leaky``, SpikingJelly ``LIFNode``, Norse).

Continuous model (NIR ``LIF``; per unit, all parameters may differ between units):

.. math::

    \tau_m \dot V = (V_{leak} - V) + R\,(I(t) + I_{bias}), \qquad
    V > V_{th} \Rightarrow \text{spike}, \; V \leftarrow V_{reset}

NIR ``LI`` is the same with ``V_th = +inf`` (never fires); NIR ``Threshold`` (``z = H(x - theta)``
of the input itself) is the memoryless limit ``tau_m = 0`` with ``R = 1``, ``V_leak = 0``.

One step ``h = dt`` (ms), the frameworks' discretisation (forward Euler of the state, the input
of *this* step taken as constant over the step, fire on the new value):

    I   = in + I_ext + I_bias * [age >= n_bias]          in: weights arriving this step
    V  <- V_leak + (V - V_leak) (1 - h/tau_m) + (R h/tau_m) I       (tau_m > 0)
    V  <- V_leak + R I                                              (tau_m = 0)
    spike if V > V_th  (V >= V_th when threshold_ge = 1), then V <- V_reset
    age <- age + 1

snnTorch ``Leaky(beta, reset_mechanism="zero")`` is this with ``tau_m = h/(1 - beta)``,
``R = tau_m/h`` (so ``V <- beta V + I``), ``V_leak = V_reset = 0`` and ``V > V_th``; SpikingJelly
``LIFNode(tau, decay_input=False, v_reset)`` is ``tau_m = tau h``, ``R = tau``,
``V_leak = V_reset`` with ``V >= V_th`` (``threshold_ge = 1``). A spike of weight ``w`` is an
input pulse of height ``w`` lasting one step. Input arriving in step k moves V in step k.

The NIR parameters are per-unit *state* rows here that the kernel never changes (give arrays
as initial values: ``net.population("l1", "nir_lif", 16, tau_m=taus, V_th=1.0)``), as NIR
keeps them; ``t_bias`` and ``threshold_ge`` are parameters (numbers or per-unit arrays).
``I_bias`` is the Affine bias feeding the unit; it starts at ``t_bias`` (ms), the time the
first input can arrive (the number of synaptic steps from the network input), so that a layer
``k`` steps from the input sees its bias in the same steps as in a framework that has no
synaptic delay.
``age`` counts the steps simulated. The input port is ``in``; ``I_ext`` (``net.current``) adds
to the input like the weights.
"""

from __future__ import annotations

from numba import njit

from neurosim.errors import bad
from neurosim.kernels.coefs import each, row
from neurosim.registry import register
from neurosim.spec import NeuronSpec, Param, StateVar
from neurosim.units import to_steps


def _check_flag(p: dict, name: str) -> float:
    if p[name] not in (0.0, 1.0):
        raise bad("nir_* model", name, p[name], "must be 0 or 1")
    return p[name]


#: what the three NIR models share: parameters, the last state rows (after V_th), coefficients
NIR_PARAMS = (
    Param("t_bias", 0.0, "ms", "time from which I_bias is applied", "nonnegative"),
    Param("threshold_ge", 0.0, "1", "1: fire when V >= V_th (SpikingJelly); "
          "0: when V > V_th (NIR, snnTorch)"),
)
NIR_TAIL_STATE = (
    StateVar("V_reset", 0.0, "mV", "reset potential"),
    StateVar("I_bias", 0.0, "input", "constant input (Affine bias)"),
    StateVar("age", 0.0, "steps", "steps simulated"),
)
NIR_COEFS = ("h", "n_bias", "threshold_ge")


def _derive(p, dt):
    return (dt, float(to_steps(p["t_bias"], dt)), _check_flag(p, "threshold_ge"))


@njit(cache=True)
def update_nir_lif(lo, hi, state, coef, inp, i_ext, spiked):
    h, n_bias, ge = row(coef, 0, lo, hi), row(coef, 1, lo, hi), row(coef, 2, lo, hi)
    V, tau, R, V_leak = state[0, lo:hi], state[1, lo:hi], state[2, lo:hi], state[3, lo:hi]
    V_th, V_reset, I_b, age = state[4, lo:hi], state[5, lo:hi], state[6, lo:hi], state[7, lo:hi]
    x = inp[0, lo:hi]
    ie = None if i_ext is None else i_ext[lo:hi]  # None: no current stimulus
    spiked = spiked[lo:hi]
    for i in range(hi - lo):  # from 0: lets LLVM vectorize
        t = tau[i]
        leaky = t > 0.0
        q = each(h, i) / (t if leaky else 1.0)
        a = 1.0 - q if leaky else 0.0
        b = R[i] * q if leaky else R[i]
        ext = 0.0 if ie is None else ie[i]
        cur = x[i] + ext + (I_b[i] if age[i] >= each(n_bias, i) else 0.0)
        x[i] = 0.0
        el = V_leak[i]
        v = el + (V[i] - el) * a + b * cur
        th = V_th[i]
        fire = v > th if each(ge, i) < 0.5 else v >= th
        V[i] = V_reset[i] if fire else v
        age[i] += 1.0
        spiked[i] = fire


nir_lif = register(NeuronSpec(
    name="nir_lif",
    params=NIR_PARAMS,
    state=(
        StateVar("V_m", 0.0, "mV", "membrane potential"),
        StateVar("tau_m", 10.0, "ms", "membrane time constant (0: no memory, NIR Threshold)"),
        StateVar("R", 1.0, "mV/input", "input resistance (NIR r)"),
        StateVar("V_leak", 0.0, "mV", "leak (resting) potential"),
        StateVar("V_th", 1.0, "mV", "spike threshold (+inf: never fires, NIR LI)"),
    ) + NIR_TAIL_STATE,
    ports=("in",),
    coef_names=NIR_COEFS,
    derive=_derive,
    update=update_nir_lif,
    doc=__doc__,
))
