r"""Pair-based STDP with weight dependence (NEST's ``stdp_synapse`` parametrisation).

Traces: the source keeps :math:`x` (time constant :math:`\tau_+`), the target :math:`y`
(:math:`\tau_-`); each jumps by 1 at its neuron's spikes (``stdp``: all-to-all pairing) or is
reset to 1 (``stdp_nn``: nearest-spike pairing, NEST's ``stdp_nn_symm_synapse``: each spike
pairs with the nearest earlier spike of the other side).

With :math:`\hat w = w / w_{max}`, at a postsynaptic spike (potentiation, Gütig et al. 2003)

.. math::

    \hat w \leftarrow \min\big(1,\; \hat w + \lambda (1 - \hat w)^{\mu_+} x\big)

and at a presynaptic spike (depression, before the weight is sent)

.. math::

    \hat w \leftarrow \max\big(0,\; \hat w - \alpha \lambda \hat w^{\mu_-} y\big)

:math:`\mu_\pm = 0` is additive STDP with hard bounds :math:`[0, w_{max}]` (Song et al. 2000),
:math:`\mu_\pm = 1` multiplicative (soft bounds, van Rossum et al. 2000), in between Gütig's
rule. For one pair with :math:`\Delta t = t_{post} - t_{pre}` the additive change is
:math:`\lambda w_{max} e^{-\Delta t/\tau_+}` for :math:`\Delta t \ge 0` and
:math:`-\alpha\lambda w_{max} e^{\Delta t/\tau_-}` for :math:`\Delta t < 0`.

Differences from NEST: the pairing uses the two neurons' spike times (NEST adds the dendritic
delay to the postsynaptic ones), and :math:`\tau_-` belongs to the rule, not to the neuron.
"""

from __future__ import annotations

from numba import njit

from neurosim.registry import register
from neurosim.spec import Param, PlasticitySpec, Trace


@njit(inline="always")
def power(x, mu):
    """x ** mu with the common exponents 0 and 1 exact and cheap (0 ** 0 = 1, as pow)."""
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return x
    return x ** mu


@njit(inline="always")
def potentiate(w, w_max, lam, mu_plus, x):
    """w after potentiation by trace value ``x`` (Gütig), clipped at w_max."""
    wn = w / w_max + lam * power(1.0 - w / w_max, mu_plus) * x
    return wn * w_max if wn < 1.0 else w_max


@njit(inline="always")
def depress(w, w_max, alpha_lam, mu_minus, y):
    """w after depression by trace value ``y`` (Gütig), clipped at 0."""
    wn = w / w_max - alpha_lam * power(w / w_max, mu_minus) * y
    return wn * w_max if wn > 0.0 else 0.0


@njit
def stdp_on_pre(k, w, syn, c, r1, r2, o1, o2, stamp):
    w[k] = depress(w[k], c[0], c[2], c[4], o1)


@njit
def stdp_on_post(k, w, syn, c, r1, r2, o1, o2, stamp):
    w[k] = potentiate(w[k], c[0], c[1], c[3], r1)


def _derive(p, dt):
    return (p["w_max"], p["lambda_"], p["alpha"] * p["lambda_"], p["mu_plus"], p["mu_minus"])


PARAMS = (
    Param("tau_plus", 20.0, "ms", "time constant of the presynaptic trace x", "positive"),
    Param("tau_minus", 20.0, "ms", "time constant of the postsynaptic trace y", "positive"),
    Param("lambda_", 0.01, "1", "learning rate (potentiation step / w_max), NEST's lambda",
          "nonnegative"),
    Param("alpha", 1.0, "1", "depression / potentiation ratio", "nonnegative"),
    Param("mu_plus", 0.0, "1", "weight dependence of potentiation (0 additive, 1 "
          "multiplicative)", "nonnegative"),
    Param("mu_minus", 0.0, "1", "weight dependence of depression", "nonnegative"),
    Param("w_max", 1.0, "weight", "upper bound of the weight (lower bound 0)", "positive"),
)


def _spec(name, keep, doc):
    return register(PlasticitySpec(
        name=name, kind="spike", params=PARAMS,
        coef_names=("w_max", "lambda", "alpha_lambda", "mu_plus", "mu_minus"),
        derive=_derive,
        pre_traces=(Trace("x", "tau_plus", "presynaptic trace", keep=keep),),
        post_traces=(Trace("y", "tau_minus", "postsynaptic trace", keep=keep),),
        on_pre=stdp_on_pre, on_post=stdp_on_post, doc=doc))


stdp = _spec("stdp", 1.0, __doc__)
stdp_nn = _spec("stdp_nn", 0.0, __doc__)
